package io.strata.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.informer.FieldSelector;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.retry.GenericRetry;
import io.strata.Version;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.OverlayMountEntry;
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
import io.strata.overlay.MountEngine;
import io.strata.overlay.MountTable;
import io.strata.overlay.Overlays;
import io.strata.registry.Platform;
import io.strata.registry.PullSecrets;
import io.strata.registry.RegistryClient;
import io.strata.sys.Syscalls;
import io.strata.tarapply.Limits;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent: a Java Operator SDK reconciler whose one primary is this node's NodeLayerState
 * (watched by its {@link StrataApi#NODE_LABEL} label), with LayerSets, OverlayMounts and this Node
 * as secondaries. Level-triggered: every event, whatever it is, leads to one pass of {@link
 * #reconcile(NodeLayerState, Context)}, which reads desired state from the caches and writes the
 * node's whole status. The SDK starts reconciling only once every cache has synced, so an empty
 * cache never looks like "nothing is wanted here", and never runs two passes at once.
 */
// Not generation-aware: a status someone else changed is put right by the next pass, not the
// resync.
@ControllerConfiguration(name = "strata-agent", generationAwareEventProcessing = false)
public final class Agent implements Reconciler<NodeLayerState>, AutoCloseable {
  static final String FIELD_MANAGER = "strata-agent";
  private static final Logger log = LoggerFactory.getLogger(Agent.class);

  private final KubernetesClient client;
  private final AgentConfig config;
  private final Clock clock;
  private final NodeStatusBuilder statusBuilder;
  private final EventRecorder events;
  private final AgentMetrics metrics = new AgentMetrics();
  private final ScheduledExecutorService loop;
  private final SimpleInboundEventSource<NodeLayerState> kicks = new SimpleInboundEventSource<>();

  private NodeLock lock;
  private LayerSetWork layerSetWork;
  private NodeMounts nodeMounts;
  private MountEngine mountEngine;
  private CacheCollector collector;
  private long lastCollection;
  private NodeLayerState.Cache cache;
  private Set<String> measuredFor = Set.of();
  private List<String> overlayFeatures = List.of();
  private HealthServer health;
  private CsiServer csiServer;
  private PodVolumes podVolumes;
  private final VolumeDemand volumeDemand;
  private Operator operator;
  private InformerEventSource<LayerSet, NodeLayerState> layerSets;
  private InformerEventSource<OverlayMount, NodeLayerState> overlayMounts;
  private InformerEventSource<Node, NodeLayerState> node;
  private IndexerResourceCache<NodeLayerState> ownState;
  private volatile boolean lastPassSucceeded;

  /**
   * The status whose failures have had their Events, as this process last computed it: the
   * informer's copy of the NodeLayerState can lag behind the agent's own write, and a pass that
   * took it for the last report would record the same failure twice. Passes run one at a time.
   */
  private volatile NodeLayerState.Status announced;

  public Agent(KubernetesClient client, AgentConfig config, Clock clock) {
    this.client = client;
    this.config = config;
    this.clock = clock;
    this.statusBuilder = new NodeStatusBuilder(clock);
    this.volumeDemand = new VolumeDemand(clock);
    this.events = new EventRecorder(client, FIELD_MANAGER, config.nodeName(), clock);
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
    HttpClient http = config.registries().httpClient(config.fetchTimeout());
    layerSetWork =
        new LayerSetWork(
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
            config.concurrentFetches(),
            metrics,
            this::queue);
    Overlays overlays = new Overlays(layout, Syscalls.get());
    overlays
        .mountBaseProblem()
        .ifPresent(problem -> log.warn("mounts will not reach the host or pods: {}", problem));
    log.info(
        "adopting {} Strata mounts found under {}", overlays.mounted().size(), config.mountBase());
    nodeMounts = new NodeMounts(overlays, layout);
    mountEngine = overlays;
    collector = new CacheCollector(layout.store(), Syscalls.get());
    try {
      overlayFeatures = Doctor.overlayFeatures(config.stateDir(), Syscalls.get());
    } catch (IOException e) {
      log.warn("probing the kernel's overlay features failed: {}", e.getMessage());
    }
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
    Apply.object(client, FIELD_MANAGER, stateObject(self));
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
        this,
        c ->
            c.withLabelSelector(StrataApi.NODE_LABEL + "=" + config.nodeName())
                .withReconciliationMaxInterval(config.resyncPeriod())
                // Failures come back as a pass that retries itself; the SDK only counts them.
                .withRetry(GenericRetry.noRetry()));
    if (config.csi() != null) {
      // Before the first pass: the volumes already mounted hold their LayerSets from it on.
      podVolumes = podVolumes(layout, overlays);
      List<String> orphans = podVolumes.removeOrphans();
      if (!orphans.isEmpty()) {
        log.info(
            "removed the uppers of {} pod volumes mounted nowhere: {}", orphans.size(), orphans);
      }
    }
    operator.start();
    if (podVolumes != null) {
      csiServer = CsiServer.start(config.nodeName(), podVolumes);
    }
    log.info(
        "agent for node {} started (state dir {}, mount base {}, namespace {})",
        config.nodeName(),
        config.stateDir(),
        config.mountBase(),
        config.namespace());
  }

  /** The pod volumes the CSI plugin publishes, of the LayerSets this node holds. */
  private PodVolumes podVolumes(NodeLayout layout, Overlays overlays) {
    VolumeLayerSets roots =
        new VolumeLayerSets(
            config.nodeName(),
            name -> layerSets.get(new ResourceID(name)),
            namespace ->
                Optional.ofNullable(client.namespaces().withName(namespace).get())
                    .map(ns -> Objects.requireNonNullElse(ns.getMetadata().getLabels(), Map.of())),
            () -> announced,
            volumeDemand,
            this::queue);
    return new PodVolumes(
        layout,
        new CsiLayout(config.csi().kubeletDir()),
        overlays,
        Syscalls.get(),
        roots,
        config.csi().sizes(),
        this::queue);
  }

  /** The pod volumes on this node, and what pods asked for lately: they hold LayerSets here. */
  private Selection.VolumeUse volumeUse(MountTable table) {
    if (podVolumes == null) {
      return Selection.VolumeUse.NONE;
    }
    try {
      return new Selection.VolumeUse(podVolumes.volumesPerLayerSet(table), volumeDemand.current());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
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
        && lastPassSucceeded;
  }

  @Override
  public List<EventSource<?, NodeLayerState>> prepareEventSources(
      EventSourceContext<NodeLayerState> context) {
    ownState = context.getPrimaryCache();
    layerSets = new InformerEventSource<>(toThisNode(LayerSet.class).build(), context);
    overlayMounts = new InformerEventSource<>(toThisNode(OverlayMount.class).build(), context);
    node =
        new InformerEventSource<>(
            toThisNode(Node.class)
                .withFieldSelector(
                    new FieldSelector(new FieldSelector.Field("metadata.name", config.nodeName())))
                .build(),
            context);
    return List.of(layerSets, overlayMounts, node, kicks);
  }

  /** Secondaries of {@code type}: any change of one is a reason for this node's pass. */
  private <R extends HasMetadata> InformerEventSourceConfiguration.Builder<R> toThisNode(
      Class<R> type) {
    ResourceID own = new ResourceID(config.nodeName());
    return InformerEventSourceConfiguration.from(type, NodeLayerState.class)
        .withSecondaryToPrimaryMapper(changed -> Set.of(own));
  }

  /** Asks for a pass soon: a download finished, a busy mount may be free. */
  private void queue() {
    kicks.propagateEvent(new ResourceID(config.nodeName()));
  }

  /**
   * The SDK reconciles only a NodeLayerState that exists: if someone deletes this node's, the agent
   * puts it back (with its label), and the pass that follows fills its status again. Looks in the
   * SDK's cache, so a tick costs no API request.
   */
  private void keepOwnState() {
    try {
      if (ownState != null && ownState.get(new ResourceID(config.nodeName())).isEmpty()) {
        Apply.object(
            client, FIELD_MANAGER, stateObject(client.nodes().withName(config.nodeName()).get()));
        log.info("NodeLayerState {} was deleted; recreated", config.nodeName());
      }
    } catch (RuntimeException e) { // retried on the next tick
      log.warn("checking NodeLayerState {} failed: {}", config.nodeName(), e.getMessage());
    }
  }

  @Override
  public UpdateControl<NodeLayerState> reconcile(
      NodeLayerState current, Context<NodeLayerState> context) {
    try {
      return reconcile(current);
    } catch (RuntimeException e) {
      lastPassSucceeded = false;
      metrics.failedPasses.increment();
      log.warn("pass for node {} failed (retrying in 5s): {}", config.nodeName(), e.getMessage());
      return UpdateControl.<NodeLayerState>noUpdate().rescheduleAfter(Duration.ofSeconds(5));
    }
  }

  /** One pass: compute what this node serves and report it. */
  private UpdateControl<NodeLayerState> reconcile(NodeLayerState current) {
    Node self = node.get(new ResourceID(config.nodeName())).orElse(null);
    if (self == null) {
      log.warn("Node {} does not exist (yet); nothing to report", config.nodeName());
      lastPassSucceeded = false;
      return UpdateControl.noUpdate();
    }
    if (!ownedBy(current, self)) {
      current = Apply.object(client, FIELD_MANAGER, stateObject(self));
      log.info("NodeLayerState {} created or adopted", config.nodeName());
    }
    NodeLayerState.Status previous = current.getStatus();
    // One read of the mount table for the pass: pod volumes' counts and the OverlayMounts' view.
    MountTable mountTable;
    try {
      mountTable = mountEngine.readMountTable();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Selection selection =
        Selection.forNode(
            self.getMetadata().getLabels(),
            layerSets.list().toList(),
            overlayMounts.list().toList(),
            held(previous),
            volumeUse(mountTable));
    if (!selection.refused().isEmpty()) {
      log.warn(
          "{} LayerSets select this node past its bound of {}, refused: {}",
          selection.refused().size(),
          NodeLayerState.MAX_ENTRIES,
          selection.refused().stream().map(ls -> ls.getMetadata().getName()).limit(10).toList());
    }
    Map<String, LayerSetEntry> layerSets = new HashMap<>();
    for (LayerSet layerSet : selection.layerSets()) {
      layerSets.put(layerSet.getMetadata().getName(), ensure(layerSet, self));
    }
    layerSetWork.retainOnly(layerSets.keySet());
    List<OverlayMountEntry> mounts;
    try {
      mounts = nodeMounts.reconcile(selection.overlayMounts(), layerSets, mountTable);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // A mount on an old root, or one to tear down, waits for its users: look again soon
    // instead of at the next resync, so it moves as soon as it is free.
    boolean busy = mounts.stream().anyMatch(Agent::waitsForUsers);
    NodeLayerState.Status next = statusBuilder.build(selection, layerSets, mounts, previous);
    next.agent = agentInfo();
    collectGarbage(next);
    if (cache != null) {
      next.cache = cache;
    }
    recordNewFailures(selection, announced != null ? announced : previous, next);
    announced = next;
    metrics.observe(next);
    if (!sameJson(previous, next)) {
      NodeLayerState desired = stateObject(self);
      desired.setStatus(next);
      Apply.status(client, FIELD_MANAGER, desired);
      log.info(
          "NodeLayerState {}: {} LayerSets, {} OverlayMounts",
          config.nodeName(),
          next.layerSets.size(),
          next.overlayMounts.size());
    }
    lastPassSucceeded = true;
    return busy
        ? UpdateControl.<NodeLayerState>noUpdate()
            .rescheduleAfter(Duration.ofSeconds(BUSY_RETRY_SECONDS))
        : UpdateControl.noUpdate();
  }

  private static final int BUSY_RETRY_SECONDS = 2;

  /** Where one LayerSet stands; whatever it holds, its failure is its own entry, not the pass's. */
  private LayerSetEntry ensure(LayerSet layerSet, Node self) {
    try {
      return layerSetWork.ensure(layerSet, Platform.ofNode(self.getMetadata().getLabels()));
    } catch (RuntimeException e) {
      log.warn("LayerSet {} failed unexpectedly", layerSet.getMetadata().getName(), e);
      LayerSetEntry failed = new LayerSetEntry();
      failed.phase = NodeLayerState.LayerSetPhase.Failed;
      failed.reason = e instanceof IllegalArgumentException ? "InvalidSpec" : "InternalError";
      failed.message = e.getMessage() != null ? e.getMessage() : e.toString();
      return failed;
    }
  }

  /** The LayerSets this node served in its last report: the bound never pushes them out. */
  private static Set<String> held(NodeLayerState.Status previous) {
    if (previous == null || previous.layerSets == null) {
      return Set.of();
    }
    return previous.layerSets.stream()
        .filter(e -> !NodeStatusBuilder.NODE_LIMIT.equals(e.reason))
        .map(e -> e.name)
        .collect(Collectors.toSet());
  }

  private static boolean waitsForUsers(OverlayMountEntry entry) {
    return "Outdated".equals(entry.reason)
        || "Busy".equals(entry.reason)
        || entry.phase == NodeLayerState.MountPhase.Unmounting;
  }

  /**
   * Keeps the cache within budget, at most once a minute and only while every served LayerSet has
   * settled (Ready or Failed): new work starts only on this thread, so nothing is being built on a
   * root the collector could remove. Blobs no LayerSet still needs go on every settled pass: they
   * are big, and listing them is cheap. What the cache holds (status.cache) is measured again after
   * each collection and whenever the roots the node's LayerSets use change.
   */
  private void collectGarbage(NodeLayerState.Status next) {
    boolean settled =
        next.layerSets.stream()
            .allMatch(
                e ->
                    e.phase == NodeLayerState.LayerSetPhase.Ready
                        || e.phase == NodeLayerState.LayerSetPhase.Failed);
    if (!settled) {
      return;
    }
    try {
      layerSetWork.removeUnneededBlobs();
    } catch (IOException e) {
      log.warn("removing unneeded blobs failed (retried later): {}", e.getMessage());
    }
    Set<String> needed =
        next.layerSets.stream()
            .filter(e -> e.chainId != null)
            .map(e -> e.chainId.substring("sha256:".length()))
            .collect(Collectors.toSet());
    long now = System.nanoTime();
    boolean collect = now - lastCollection >= TimeUnit.MINUTES.toNanos(1) || lastCollection == 0;
    if (collect) {
      lastCollection = now;
      try {
        collector.collect(needed, config.cacheBudget());
      } catch (IOException e) {
        log.warn("cache collection failed (retried later): {}", e.getMessage());
      }
    }
    // Reading every root's record is not for every pass: only when roots may have come or gone.
    if (collect || !needed.equals(measuredFor)) {
      measureCache();
      measuredFor = needed;
    }
  }

  /** What the cache holds, for status.cache, from the committed roots' records. */
  private void measureCache() {
    try {
      CacheCollector.Usage usage = collector.usage();
      NodeLayerState.Cache measured = new NodeLayerState.Cache();
      measured.bytes = usage.bytes();
      measured.files = usage.files();
      measured.capacityBytes = usage.capacityBytes();
      cache = measured;
    } catch (IOException e) {
      log.warn("measuring the cache failed (retried later): {}", e.getMessage());
    }
  }

  /** An Event on the LayerSet or OverlayMount for each failure this pass newly reports. */
  private void recordNewFailures(
      Selection selection, NodeLayerState.Status previous, NodeLayerState.Status next) {
    warnNewFailures(
        next.layerSets,
        previous == null ? null : previous.layerSets,
        e -> e.phase == NodeLayerState.LayerSetPhase.Failed,
        Stream.concat(selection.layerSets().stream(), selection.refused().stream()).toList());
    warnNewFailures(
        next.overlayMounts,
        previous == null ? null : previous.overlayMounts,
        e -> e.phase == NodeLayerState.MountPhase.Failed,
        selection.overlayMounts());
  }

  /** A Warning Event on its resource for each entry that failed since {@code before}, or anew. */
  private <E extends NodeLayerState.Entry> void warnNewFailures(
      List<E> entries, List<E> before, Predicate<E> failed, List<? extends HasMetadata> resources) {
    for (E entry : entries) {
      E old = find(before, entry.name, e -> e.name);
      if (failed.test(entry)
          && (old == null || !failed.test(old) || !Objects.equals(old.reason, entry.reason))) {
        resources.stream()
            .filter(r -> r.getMetadata().getName().equals(entry.name))
            .findFirst()
            .ifPresent(
                r ->
                    events.warning(
                        r, entry.reason, "node " + config.nodeName() + ": " + entry.message));
      }
    }
  }

  private static <E> E find(List<E> entries, String name, Function<E, String> nameOf) {
    return entries == null
        ? null
        : entries.stream().filter(e -> name.equals(nameOf.apply(e))).findFirst().orElse(null);
  }

  /** This node's NodeLayerState: labelled for the agent's watch, owned by the Node if it exists. */
  private NodeLayerState stateObject(Node self) {
    NodeLayerState state = new NodeLayerState();
    state.getMetadata().setName(config.nodeName());
    state.getMetadata().setLabels(Map.of(StrataApi.NODE_LABEL, config.nodeName()));
    if (self != null) {
      state.getMetadata().setOwnerReferences(List.of(ownerReference(self)));
    }
    return state;
  }

  private static OwnerReference ownerReference(Node self) {
    return new OwnerReferenceBuilder()
        .withApiVersion("v1")
        .withKind("Node")
        .withName(self.getMetadata().getName())
        .withUid(self.getMetadata().getUid())
        .build();
  }

  private static boolean ownedBy(NodeLayerState state, Node self) {
    List<OwnerReference> owners = state.getMetadata().getOwnerReferences();
    return owners != null
        && owners.stream().anyMatch(o -> Objects.equals(o.getUid(), self.getMetadata().getUid()));
  }

  private NodeLayerState.Agent agentInfo() {
    NodeLayerState.Agent agent = new NodeLayerState.Agent();
    agent.version = Version.get();
    agent.kernel = System.getProperty("os.version");
    agent.overlayFeatures = overlayFeatures;
    return agent;
  }

  private static boolean sameJson(Object a, Object b) {
    JsonNode left = Serialization.jsonMapper().valueToTree(a);
    JsonNode right = Serialization.jsonMapper().valueToTree(b);
    return left.equals(right);
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
