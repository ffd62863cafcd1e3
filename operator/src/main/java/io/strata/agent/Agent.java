package io.strata.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.Version;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.OverlayMountEntry;
import io.strata.crd.OverlayMount;
import io.strata.fetch.BlobFetcher;
import io.strata.kube.Apply;
import io.strata.kube.CustomResources;
import io.strata.kube.EventRecorder;
import io.strata.kube.HealthServer;
import io.strata.layerstore.CacheCollector;
import io.strata.layerstore.LayerStore;
import io.strata.layout.NodeLayout;
import io.strata.overlay.Overlays;
import io.strata.registry.Platform;
import io.strata.registry.PullSecrets;
import io.strata.registry.RegistryClient;
import io.strata.sys.Syscalls;
import io.strata.tarapply.Limits;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent. Level-triggered: every event only queues one pass of {@link #reconcile()}, which
 * reads desired state from the informer caches and writes the node's whole NodeLayerState status. A
 * pass does nothing until every cache has synced, so an empty cache never looks like "nothing is
 * wanted here".
 */
public final class Agent implements AutoCloseable {
  static final String FIELD_MANAGER = "strata-agent";
  private static final Logger log = LoggerFactory.getLogger(Agent.class);

  private final KubernetesClient client;
  private final AgentConfig config;
  private final Clock clock;
  private final NodeStatusBuilder statusBuilder;
  private final EventRecorder events;
  private final AgentMetrics metrics = new AgentMetrics();
  private final ScheduledExecutorService loop;
  private final AtomicBoolean queued = new AtomicBoolean();

  private NodeLock lock;
  private LayerSetWork layerSetWork;
  private NodeMounts nodeMounts;
  private CacheCollector collector;
  private long lastCollection;
  private HealthServer health;
  private SharedIndexInformer<LayerSet> layerSets;
  private SharedIndexInformer<OverlayMount> overlayMounts;
  private SharedIndexInformer<Node> node;
  private SharedIndexInformer<NodeLayerState> ownState;
  private volatile boolean lastPassSucceeded;

  public Agent(KubernetesClient client, AgentConfig config, Clock clock) {
    this.client = client;
    this.config = config;
    this.clock = clock;
    this.statusBuilder = new NodeStatusBuilder(clock);
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
    LayerStore store = new LayerStore(layout, Syscalls.get(), Limits.DEFAULT);
    store.recover(); // a crash mid-build left staging behind: it is never used
    java.net.http.HttpClient http = config.registries().httpClient(config.fetchTimeout());
    layerSetWork =
        new LayerSetWork(
            new BlobFetcher(layout, config.concurrentFetches(), config.fetchTimeout(), http),
            new RegistryClient(http, config.registries().hosts(), config.fetchTimeout()),
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
    collector = new CacheCollector(layout, Syscalls.get());
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

    long resync = config.resyncPeriod().toMillis();
    ResourceEventHandler<HasMetadata> kick = new Kick();
    layerSets = client.resources(LayerSet.class).inform(cast(kick), resync);
    overlayMounts = client.resources(OverlayMount.class).inform(cast(kick), resync);
    node = client.nodes().withName(config.nodeName()).inform(cast(kick), resync);
    ownState =
        client.resources(NodeLayerState.class).withName(config.nodeName()).inform(cast(kick), 0);
    loop.scheduleWithFixedDelay(this::queue, resync, resync, TimeUnit.MILLISECONDS);
    queue(); // objects listed while the informers started found a pass that could not run yet
    log.info(
        "agent for node {} started (state dir {}, mount base {}, namespace {})",
        config.nodeName(),
        config.stateDir(),
        config.mountBase(),
        config.namespace());
  }

  /** Ready once the lock is held, every cache has synced and the last pass wrote what it meant. */
  public boolean isReady() {
    return lock != null && informersSynced() && lastPassSucceeded;
  }

  private boolean informersSynced() {
    return Stream.of(layerSets, overlayMounts, node, ownState)
        .allMatch(i -> i != null && i.hasSynced());
  }

  private void queue() {
    if (queued.compareAndSet(false, true)) {
      loop.execute(
          () -> {
            queued.set(false);
            reconcileOrRetry();
          });
    }
  }

  /** One pass: compute what this node serves and report it. */
  void reconcile() {
    if (!informersSynced()) {
      loop.schedule(this::queue, 1, TimeUnit.SECONDS); // never act on a cache not yet listed
      return;
    }
    Node self = node.getStore().getByKey(config.nodeName());
    if (self == null) {
      log.warn("Node {} does not exist (yet); nothing to report", config.nodeName());
      lastPassSucceeded = false;
      return;
    }
    Selection selection =
        Selection.forNode(
            self.getMetadata().getLabels(),
            layerSets.getStore().list(),
            overlayMounts.getStore().list());
    NodeLayerState current = ownState.getStore().getByKey(config.nodeName());
    if (current == null || !ownedBy(current, self)) {
      current = Apply.object(client, FIELD_MANAGER, stateObject(self));
      log.info("NodeLayerState {} created or adopted", config.nodeName());
    }
    NodeLayerState.Status previous = current.getStatus();
    Map<String, LayerSetEntry> layerSets = new HashMap<>();
    for (LayerSet layerSet : selection.layerSets()) {
      layerSets.put(
          layerSet.getMetadata().getName(),
          layerSetWork.ensure(layerSet, Platform.ofNode(self.getMetadata().getLabels())));
    }
    layerSetWork.retainOnly(layerSets.keySet());
    List<OverlayMountEntry> mounts;
    try {
      mounts = nodeMounts.reconcile(selection.overlayMounts(), layerSets);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (mounts.stream().anyMatch(Agent::waitsForUsers)) {
      // A mount on an old root, or one to tear down, waits for its users: look again soon
      // instead of at the next resync, so it moves as soon as it is free.
      loop.schedule(this::queue, BUSY_RETRY_SECONDS, TimeUnit.SECONDS);
    }
    NodeLayerState.Status next = statusBuilder.build(selection, layerSets, mounts, previous);
    next.agent = agentInfo();
    collectGarbage(next);
    recordNewFailures(selection, previous, next);
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
  }

  private static final int BUSY_RETRY_SECONDS = 2;

  private static boolean waitsForUsers(OverlayMountEntry entry) {
    return "Outdated".equals(entry.reason)
        || "Busy".equals(entry.reason)
        || entry.phase == NodeLayerState.MountPhase.Unmounting;
  }

  /**
   * Keeps the cache within budget, at most once a minute and only while every served LayerSet has
   * settled (Ready or Failed): new work starts only on this thread, so nothing is being built on a
   * root the collector could remove.
   */
  private void collectGarbage(NodeLayerState.Status next) {
    boolean settled =
        next.layerSets.stream()
            .allMatch(
                e ->
                    e.phase == NodeLayerState.LayerSetPhase.Ready
                        || e.phase == NodeLayerState.LayerSetPhase.Failed);
    long now = System.nanoTime();
    if (!settled || now - lastCollection < TimeUnit.MINUTES.toNanos(1) && lastCollection != 0) {
      return;
    }
    lastCollection = now;
    Set<String> needed =
        next.layerSets.stream()
            .filter(e -> e.chainId != null)
            .map(e -> e.chainId.substring("sha256:".length()))
            .collect(Collectors.toSet());
    try {
      collector.collect(needed, config.cacheBudget());
    } catch (IOException e) {
      log.warn("cache collection failed (retried later): {}", e.getMessage());
    }
  }

  /** An Event on the LayerSet or OverlayMount for each failure this pass newly reports. */
  private void recordNewFailures(
      Selection selection, NodeLayerState.Status previous, NodeLayerState.Status next) {
    for (LayerSetEntry entry : next.layerSets) {
      LayerSetEntry old =
          previous == null ? null : find(previous.layerSets, entry.name, e -> e.name);
      if (entry.phase == NodeLayerState.LayerSetPhase.Failed
          && (old == null
              || old.phase != entry.phase
              || !Objects.equals(old.reason, entry.reason))) {
        selection.layerSets().stream()
            .filter(ls -> ls.getMetadata().getName().equals(entry.name))
            .findFirst()
            .ifPresent(
                ls ->
                    events.warning(
                        ls, entry.reason, "node " + config.nodeName() + ": " + entry.message));
      }
    }
    for (OverlayMountEntry entry : next.overlayMounts) {
      OverlayMountEntry old =
          previous == null ? null : find(previous.overlayMounts, entry.name, e -> e.name);
      if (entry.phase == NodeLayerState.MountPhase.Failed
          && (old == null
              || old.phase != entry.phase
              || !Objects.equals(old.reason, entry.reason))) {
        selection.overlayMounts().stream()
            .filter(om -> om.getMetadata().getName().equals(entry.name))
            .findFirst()
            .ifPresent(
                om ->
                    events.warning(
                        om, entry.reason, "node " + config.nodeName() + ": " + entry.message));
      }
    }
  }

  private static <E> E find(
      List<E> entries, String name, java.util.function.Function<E, String> nameOf) {
    return entries == null
        ? null
        : entries.stream().filter(e -> name.equals(nameOf.apply(e))).findFirst().orElse(null);
  }

  private NodeLayerState stateObject(Node self) {
    NodeLayerState state = new NodeLayerState();
    state.getMetadata().setName(config.nodeName());
    state.getMetadata().setOwnerReferences(List.of(ownerReference(self)));
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
    return agent;
  }

  private static boolean sameJson(Object a, Object b) {
    JsonNode left = Serialization.jsonMapper().valueToTree(a);
    JsonNode right = Serialization.jsonMapper().valueToTree(b);
    return left.equals(right);
  }

  private void reconcileOrRetry() {
    try {
      reconcile();
    } catch (RuntimeException e) {
      lastPassSucceeded = false;
      metrics.failedPasses.increment();
      log.warn("pass for node {} failed (retrying in 5s): {}", config.nodeName(), e.getMessage());
      loop.schedule(this::queue, 5, TimeUnit.SECONDS);
    }
  }

  @SuppressWarnings("unchecked")
  private static <T extends HasMetadata> ResourceEventHandler<T> cast(
      ResourceEventHandler<HasMetadata> handler) {
    return (ResourceEventHandler<T>) (ResourceEventHandler<?>) handler;
  }

  /** Every change, whatever it is, queues one full pass. */
  private final class Kick implements ResourceEventHandler<HasMetadata> {
    @Override
    public void onAdd(HasMetadata obj) {
      queue();
    }

    @Override
    public void onUpdate(HasMetadata oldObj, HasMetadata newObj) {
      queue();
    }

    @Override
    public void onDelete(HasMetadata obj, boolean deletedFinalStateUnknown) {
      queue();
    }
  }

  @Override
  public void close() throws IOException {
    loop.shutdownNow();
    if (layerSetWork != null) {
      layerSetWork.close();
    }
    Stream.of(layerSets, overlayMounts, node, ownState)
        .filter(Objects::nonNull)
        .forEach(SharedIndexInformer::close);
    if (health != null) {
      health.close();
    }
    if (lock != null) {
      lock.close();
    }
  }
}
