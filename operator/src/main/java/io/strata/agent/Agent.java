package io.strata.agent;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.javaoperatorsdk.operator.processing.retry.GenericRetry;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.OverlayMount;
import io.strata.crd.StrataApi;
import io.strata.csi.CsiLayout;
import io.strata.csi.CsiServer;
import io.strata.csi.PodVolumes;
import io.strata.doctor.Doctor;
import io.strata.fetch.BlobFetcher;
import io.strata.kube.Apply;
import io.strata.kube.CustomResources;
import io.strata.kube.EventRecorder;
import io.strata.kube.HealthServer;
import io.strata.layerstore.CacheCollector;
import io.strata.layerstore.LayerStore;
import io.strata.layout.NodeLayout;
import io.strata.overlay.Overlays;
import io.strata.registry.PullSecrets;
import io.strata.registry.RegistryClient;
import io.strata.sys.Syscalls;
import io.strata.tarapply.Limits;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent process: takes the node lock, wires the store, the fetchers, the mount engine and
 * the CSI plugin to one {@link NodeReconciler} (the only place they are made), and runs it under
 * the Java Operator SDK beside the Lease, the health server and kubelet's sockets.
 */
public final class Agent implements AutoCloseable {
  static final String FIELD_MANAGER = "strata-agent";
  private static final Logger log = LoggerFactory.getLogger(Agent.class);

  private final KubernetesClient client;
  private final AgentConfig config;
  private final Clock clock;
  private final AgentMetrics metrics = new AgentMetrics();
  private final ScheduledExecutorService loop;

  private HealthServer health;
  private NodeLock lock;
  private LayerSetWork layerSetWork;
  private NodeReconciler reconciler;
  private Operator operator;
  private CsiServer csiServer;

  public Agent(KubernetesClient client, AgentConfig config, Clock clock) {
    this.client = client;
    this.config = config;
    this.clock = clock;
    this.loop =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("agent-" + config.nodeName()).daemon().unstarted(r));
  }

  /** Takes the node lock, waits for the CRDs, then starts watching and reporting. */
  public void start() throws IOException, InterruptedException {
    health =
        HealthServer.start(config.httpPort(), () -> lock != null, this::isReady, metrics::scrape);
    lock = NodeLock.acquire(config.stateDir(), Duration.ofSeconds(1));
    NodeLayout layout = new NodeLayout(config.stateDir(), config.mountBase());
    Files.createDirectories(config.mountBase());
    LayerStore store = new LayerStore(layout.store(), Syscalls.get(), Limits.DEFAULT);
    store.recover(); // a crash mid-build left staging behind: it is never used
    metrics.countLayersApplied(store);
    metrics.cache(config.cacheBudget().maxBytes(), config.stateDir(), Syscalls.get());
    Overlays overlays = new Overlays(layout, Syscalls.get());
    overlays
        .mountBaseProblem()
        .ifPresent(problem -> log.warn("mounts will not reach the host or pods: {}", problem));
    log.info(
        "adopting {} Strata mounts found under {}", overlays.mounted().size(), config.mountBase());

    VolumeDemand volumeDemand = new VolumeDemand(clock);
    PassRequests passRequests = new PassRequests(config.nodeName());
    layerSetWork = layerSetWork(layout, store, passRequests::ask);
    reconciler =
        new NodeReconciler(
            client,
            config.nodeName(),
            clock,
            new EventRecorder(client, FIELD_MANAGER, config.nodeName(), clock),
            metrics,
            layerSetWork,
            new NodeMounts(overlays, layout),
            overlays,
            new CacheKeeper(
                new CacheCollector(layout.store(), Syscalls.get()),
                config.cacheBudget(),
                layerSetWork,
                System::nanoTime),
            config.csi() == null
                ? NodeReconciler.VolumeUseSource.NONE
                : table ->
                    new Selection.VolumeUse(
                        PodVolumes.volumesPerLayerSet(layout, table), volumeDemand.current()),
            passRequests,
            overlayFeatures());

    CustomResources.awaitEstablished(
        client,
        List.of(LayerSet.class, OverlayMount.class, NodeLayerState.class),
        Duration.ofSeconds(2));
    AgentLease lease = new AgentLease(client, config, clock);
    loop.scheduleWithFixedDelay(
        () -> {
          try {
            lease.renew();
          } catch (RuntimeException e) { // retried on the next tick
            log.warn("renewing Lease {} failed: {}", config.leaseName(), e.getMessage());
          }
        },
        0,
        config.leaseRenewPeriod().toMillis(),
        TimeUnit.MILLISECONDS);

    // The one primary must exist before the SDK can reconcile it.
    Node self = client.nodes().withName(config.nodeName()).get();
    Apply.object(client, FIELD_MANAGER, OwnState.of(config.nodeName(), self));
    loop.scheduleWithFixedDelay(
        this::keepOwnState,
        config.leaseRenewPeriod().toMillis(),
        config.leaseRenewPeriod().toMillis(),
        TimeUnit.MILLISECONDS);
    operator =
        new Operator(
            o ->
                o.withKubernetesClient(client)
                    .withCloseClientOnStop(false)
                    .withConcurrentReconciliationThreads(1)
                    .withConcurrentWorkflowExecutorThreads(1)
                    .withMetrics(MicrometerMetrics.withoutPerResourceMetrics(metrics.registry())));
    operator.register(
        reconciler,
        c ->
            c.withLabelSelector(StrataApi.NODE_LABEL + "=" + config.nodeName())
                .withReconciliationMaxInterval(config.resyncPeriod())
                // Failures come back as a pass that retries itself; the SDK only counts them.
                .withRetry(GenericRetry.noRetry()));
    PodVolumes podVolumes = null;
    if (config.csi() != null) {
      // Before the first pass: the volumes already mounted hold their LayerSets from it on.
      podVolumes = podVolumes(layout, overlays, volumeDemand, passRequests);
      List<String> orphans = podVolumes.removeOrphans();
      if (!orphans.isEmpty()) {
        log.info(
            "removed the uppers of {} pod volumes mounted nowhere: {}", orphans.size(), orphans);
      }
    }
    operator.start();
    if (podVolumes != null) {
      csiServer = CsiServer.start(config.nodeName(), podVolumes, metrics::volumeRefused);
    }
    log.info(
        "agent for node {} started (state dir {}, mount base {}, namespace {})",
        config.nodeName(),
        config.stateDir(),
        config.mountBase(),
        config.namespace());
  }

  /** Fetching and materializing the node's LayerSets, on workers of their own. */
  private LayerSetWork layerSetWork(NodeLayout layout, LayerStore store, Runnable onChange)
      throws IOException {
    HttpClient http = config.registries().httpClient(config.fetchTimeout());
    return new LayerSetWork(
        new BlobFetcher(
            layout.store(),
            config.concurrentFetches(),
            config.fetchTimeout(),
            config.fetchStallTimeout(),
            http,
            config.registries().destinations(),
            config.fileUrlDirs()),
        new RegistryClient(
            http,
            config.registries().hosts(),
            config.registries().destinations(),
            config.fetchTimeout()),
        new PullSecrets(client, config.namespace()),
        store,
        new LayerSetWorkers(config.concurrentFetches()),
        metrics,
        System::nanoTime,
        onChange);
  }

  /** The pod volumes the CSI plugin publishes, of the LayerSets this node holds. */
  private PodVolumes podVolumes(
      NodeLayout layout, Overlays overlays, VolumeDemand demand, PassRequests passRequests) {
    VolumeLayerSets roots =
        new VolumeLayerSets(
            config.nodeName(),
            reconciler::layerSet,
            namespace ->
                Optional.ofNullable(client.namespaces().withName(namespace).get())
                    .map(ns -> Objects.requireNonNullElse(ns.getMetadata().getLabels(), Map.of())),
            reconciler::announced,
            demand,
            passRequests::ask);
    return new PodVolumes(
        layout,
        new CsiLayout(config.csi().kubeletDir()),
        overlays,
        Syscalls.get(),
        roots,
        config.csi().sizes(),
        passRequests::ask);
  }

  /** What the kernel's overlayfs offers, for status.agent (empty when the probe fails). */
  private List<String> overlayFeatures() {
    try {
      return Doctor.overlayFeatures(config.stateDir(), Syscalls.get());
    } catch (IOException e) {
      log.warn("probing the kernel's overlay features failed: {}", e.getMessage());
      return List.of();
    }
  }

  /**
   * The SDK reconciles only a NodeLayerState that exists: if someone deletes this node's, the agent
   * puts it back (with its label), and the pass that follows fills its status again. Looks in the
   * SDK's cache, so a tick costs no API request.
   */
  private void keepOwnState() {
    try {
      if (reconciler.ownStateMissing()) {
        Apply.object(
            client,
            FIELD_MANAGER,
            OwnState.of(config.nodeName(), client.nodes().withName(config.nodeName()).get()));
        log.info("NodeLayerState {} was deleted; recreated", config.nodeName());
      }
    } catch (RuntimeException e) { // retried on the next tick
      log.warn("checking NodeLayerState {} failed: {}", config.nodeName(), e.getMessage());
    }
  }

  /** The Prometheus text of the agent's metrics (what /metrics serves). */
  public String scrapeMetrics() {
    return metrics.scrape();
  }

  /** Ready once the lock is held, every cache has synced and the last pass wrote what it meant. */
  public boolean isReady() {
    return lock != null
        && operator != null
        && operator.getRuntimeInfo().allEventSourcesAreHealthy()
        && reconciler.lastPassSucceeded();
  }

  @Override
  public void close() throws IOException {
    if (csiServer != null) {
      csiServer.close();
    }
    loop.shutdownNow();
    if (operator != null) {
      operator.stop();
    }
    if (layerSetWork != null) {
      layerSetWork.close();
    }
    if (health != null) {
      health.close();
    }
    if (lock != null) {
      lock.close();
    }
  }
}
