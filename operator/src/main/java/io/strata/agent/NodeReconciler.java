package io.strata.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.config.informer.FieldSelector;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.strata.Version;
import io.strata.crd.AgentReason;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.OverlayMountEntry;
import io.strata.crd.OverlayMount;
import io.strata.crd.StrataApi;
import io.strata.kube.Apply;
import io.strata.kube.EventRecorder;
import io.strata.overlay.MountEngine;
import io.strata.overlay.MountRefusedException;
import io.strata.overlay.MountTable;
import io.strata.registry.Platform;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's reconciler: its one primary is this node's NodeLayerState (watched by its {@link
 * StrataApi#NODE_LABEL} label), with LayerSets, OverlayMounts and this Node as secondaries.
 * Level-triggered: every event, whatever it is, leads to one pass of {@link
 * #reconcile(NodeLayerState, Context)}, which reads desired state from the caches and writes the
 * node's whole status. The SDK starts reconciling only once every cache has synced, so an empty
 * cache never looks like "nothing is wanted here", and never runs two passes at once. What it works
 * with is made by {@link Agent}.
 */
// Not generation-aware: a status someone else changed is put right by the next pass, not the
// resync.
@ControllerConfiguration(name = "strata-agent", generationAwareEventProcessing = false)
final class NodeReconciler implements Reconciler<NodeLayerState> {
  private static final Logger log = LoggerFactory.getLogger(NodeReconciler.class);

  /** How soon a pass with mounts waiting for their users looks again. */
  private static final Duration BUSY_RETRY = Duration.ofSeconds(2);

  /** How soon a pass that failed is tried again. */
  private static final Duration FAILED_PASS_RETRY = Duration.ofSeconds(5);

  /** Where the pod volumes on this node stand, from the pass's one read of the mount table. */
  @FunctionalInterface
  interface VolumeUseSource {
    Selection.VolumeUse read(MountTable table) throws IOException;

    VolumeUseSource NONE = table -> Selection.VolumeUse.NONE;
  }

  private final KubernetesClient client;
  private final String nodeName;
  private final NodeStatusBuilder statusBuilder;
  private final EventRecorder events;
  private final AgentMetrics metrics;
  private final LayerSetWork layerSetWork;
  private final NodeMounts nodeMounts;
  private final MountEngine mountEngine;
  private final CacheKeeper cacheKeeper;
  private final VolumeUseSource volumes;
  private final NodeLayerState.Agent agentInfo;
  private final PassRequests passRequests;

  private volatile InformerEventSource<LayerSet, NodeLayerState> layerSets;
  private volatile InformerEventSource<OverlayMount, NodeLayerState> overlayMounts;
  private volatile InformerEventSource<Node, NodeLayerState> node;
  private volatile IndexerResourceCache<NodeLayerState> ownState;
  private volatile boolean lastPassSucceeded;

  /**
   * The status whose failures have had their Events, as this process last computed it: the
   * informer's copy of the NodeLayerState can lag behind the agent's own write, and a pass that
   * took it for the last report would record the same failure twice. Passes run one at a time.
   */
  private volatile NodeLayerState.Status announced;

  /**
   * @param overlayFeatures what the kernel's overlayfs offers, as {@code strata doctor} found
   */
  NodeReconciler(
      KubernetesClient client,
      String nodeName,
      Clock clock,
      EventRecorder events,
      AgentMetrics metrics,
      LayerSetWork layerSetWork,
      NodeMounts nodeMounts,
      MountEngine mountEngine,
      CacheKeeper cacheKeeper,
      VolumeUseSource volumes,
      PassRequests passRequests,
      List<String> overlayFeatures) {
    this.client = client;
    this.nodeName = nodeName;
    this.statusBuilder = new NodeStatusBuilder(clock);
    this.events = events;
    this.metrics = metrics;
    this.layerSetWork = layerSetWork;
    this.nodeMounts = nodeMounts;
    this.mountEngine = mountEngine;
    this.cacheKeeper = cacheKeeper;
    this.volumes = volumes;
    this.passRequests = passRequests;
    this.agentInfo = new NodeLayerState.Agent();
    agentInfo.version = Version.get();
    agentInfo.kernel = System.getProperty("os.version");
    agentInfo.overlayFeatures = overlayFeatures;
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
                    new FieldSelector(new FieldSelector.Field("metadata.name", nodeName)))
                .build(),
            context);
    return List.of(layerSets, overlayMounts, node, passRequests.eventSource());
  }

  /** Secondaries of {@code type}: any change of one is a reason for this node's pass. */
  private <R extends HasMetadata> InformerEventSourceConfiguration.Builder<R> toThisNode(
      Class<R> type) {
    ResourceID own = new ResourceID(nodeName);
    return InformerEventSourceConfiguration.from(type, NodeLayerState.class)
        .withSecondaryToPrimaryMapper(changed -> Set.of(own));
  }

  /** The LayerSet named {@code name}, from the agent's cache. */
  Optional<LayerSet> layerSet(String name) {
    InformerEventSource<LayerSet, NodeLayerState> cache = layerSets;
    return cache == null ? Optional.empty() : cache.get(new ResourceID(name));
  }

  /** The status this node last computed (null before its first pass). */
  NodeLayerState.Status announced() {
    return announced;
  }

  /** Whether the SDK's cache lacks this node's NodeLayerState (someone deleted it). */
  boolean ownStateMissing() {
    return ownState != null && ownState.get(new ResourceID(nodeName)).isEmpty();
  }

  boolean lastPassSucceeded() {
    return lastPassSucceeded;
  }

  @Override
  public UpdateControl<NodeLayerState> reconcile(
      NodeLayerState current, Context<NodeLayerState> context) {
    try {
      return reconcile(current);
    } catch (RuntimeException e) {
      lastPassSucceeded = false;
      metrics.failedPasses.increment();
      log.warn(
          "pass for node {} failed (retrying in {}s): {}",
          nodeName,
          FAILED_PASS_RETRY.toSeconds(),
          e.getMessage());
      return UpdateControl.<NodeLayerState>noUpdate().rescheduleAfter(FAILED_PASS_RETRY);
    }
  }

  /** One pass: compute what this node serves and report it. */
  private UpdateControl<NodeLayerState> reconcile(NodeLayerState current) {
    Node self = node.get(new ResourceID(nodeName)).orElse(null);
    if (self == null) {
      log.warn("Node {} does not exist (yet); nothing to report", nodeName);
      lastPassSucceeded = false;
      return UpdateControl.noUpdate();
    }
    if (!OwnState.ownedBy(current, self)) {
      current = Apply.object(client, Agent.FIELD_MANAGER, OwnState.of(nodeName, self));
      log.info("NodeLayerState {} created or adopted", nodeName);
    }
    NodeLayerState.Status previous = current.getStatus();
    // One read of the mount table for the pass: pod volumes' counts and the OverlayMounts' view.
    MountTable mountTable;
    Selection.VolumeUse volumeUse;
    try {
      mountTable = mountEngine.readMountTable();
      volumeUse = volumes.read(mountTable);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Selection selection =
        Selection.forNode(
            self.getMetadata().getLabels(),
            layerSets.list().toList(),
            overlayMounts.list().toList(),
            held(previous),
            volumeUse);
    if (!selection.refused().isEmpty()) {
      log.warn(
          "{} LayerSets select this node past its bound of {}, refused: {}",
          selection.refused().size(),
          NodeLayerState.MAX_ENTRIES,
          selection.refused().stream().map(ls -> ls.getMetadata().getName()).limit(10).toList());
    }
    Platform platform = Platform.ofNode(self.getMetadata().getLabels());
    Map<String, LayerSetProgress> progress = new HashMap<>();
    Map<String, Path> readyRoots = new HashMap<>();
    for (LayerSet layerSet : selection.layerSets()) {
      String name = layerSet.getMetadata().getName();
      LayerSetProgress where = ensure(layerSet, platform);
      progress.put(name, where);
      if (where.stage() instanceof LayerSetProgress.Ready ready) {
        readyRoots.put(name, ready.made().root());
      }
    }
    layerSetWork.retainOnly(progress.keySet());
    List<OverlayMountEntry> mounts;
    try {
      mounts = nodeMounts.reconcile(selection.overlayMounts(), readyRoots, mountTable);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // A mount on an old root, or one to tear down, waits for its users: look again soon
    // instead of at the next resync, so it moves as soon as it is free.
    boolean busy = mounts.stream().anyMatch(NodeReconciler::waitsForUsers);
    NodeLayerState.Status next = statusBuilder.build(selection, progress, mounts, previous);
    next.agent = agentInfo;
    NodeLayerState.Cache cache = cacheKeeper.afterPass(progress.values());
    if (cache != null) {
      next.cache = cache;
    }
    recordNewFailures(selection, announced != null ? announced : previous, next);
    announced = next;
    metrics.observe(next);
    if (!sameJson(previous, next)) {
      NodeLayerState desired = OwnState.of(nodeName, self);
      desired.setStatus(next);
      Apply.status(client, Agent.FIELD_MANAGER, desired);
      log.info(
          "NodeLayerState {}: {} LayerSets, {} OverlayMounts",
          nodeName,
          next.layerSets.size(),
          next.overlayMounts.size());
    }
    lastPassSucceeded = true;
    return busy
        ? UpdateControl.<NodeLayerState>noUpdate().rescheduleAfter(BUSY_RETRY)
        : UpdateControl.noUpdate();
  }

  /** Where one LayerSet stands; whatever it holds, its failure is its own entry, not the pass's. */
  private LayerSetProgress ensure(LayerSet layerSet, Platform platform) {
    try {
      return layerSetWork.ensure(layerSet, platform);
    } catch (RuntimeException e) {
      log.warn("LayerSet {} failed unexpectedly", layerSet.getMetadata().getName(), e);
      return LayerSetProgress.failedAtOnce(
          e instanceof IllegalArgumentException
              ? AgentReason.InvalidSpec
              : AgentReason.InternalError,
          e.getMessage() != null ? e.getMessage() : e.toString());
    }
  }

  /** The LayerSets this node served in its last report: the bound never pushes them out. */
  private static Set<String> held(NodeLayerState.Status previous) {
    if (previous == null || previous.layerSets == null) {
      return Set.of();
    }
    return previous.layerSets.stream()
        .filter(e -> !AgentReason.NodeLimit.name().equals(e.reason))
        .map(e -> e.name)
        .collect(Collectors.toSet());
  }

  private static boolean waitsForUsers(OverlayMountEntry entry) {
    return AgentReason.Outdated.name().equals(entry.reason)
        || MountRefusedException.Reason.Busy.name().equals(entry.reason)
        || entry.phase == NodeLayerState.MountPhase.Unmounting;
  }

  /** An Event on the LayerSet or OverlayMount for each failure this pass newly reports. */
  private void recordNewFailures(
      Selection selection, NodeLayerState.Status previous, NodeLayerState.Status next) {
    warnNewFailures(
        next.layerSets,
        previous == null ? null : previous.layerSets,
        e -> e.phase == NodeLayerState.LayerSetPhase.Failed,
        Stream.concat(selection.layerSets().stream(), selection.refused().stream()).toList(),
        metrics::layerSetFailed);
    warnNewFailures(
        next.overlayMounts,
        previous == null ? null : previous.overlayMounts,
        e -> e.phase == NodeLayerState.MountPhase.Failed,
        selection.overlayMounts(),
        metrics::overlayMountFailed);
  }

  /**
   * A Warning Event on its resource, and a count by reason, for each entry that failed since {@code
   * before}, or anew.
   */
  private <E extends NodeLayerState.Entry> void warnNewFailures(
      List<E> entries,
      List<E> before,
      Predicate<E> failed,
      List<? extends HasMetadata> resources,
      Consumer<String> count) {
    Map<String, E> old =
        before == null
            ? Map.of()
            : before.stream().collect(Collectors.toMap(e -> e.name, e -> e, (a, b) -> a));
    Map<String, HasMetadata> byName =
        resources.stream()
            .collect(Collectors.toMap(r -> r.getMetadata().getName(), r -> r, (a, b) -> a));
    for (E entry : entries) {
      E was = old.get(entry.name);
      HasMetadata resource = byName.get(entry.name);
      if (failed.test(entry)
          && (was == null || !failed.test(was) || !Objects.equals(was.reason, entry.reason))) {
        count.accept(entry.reason);
        if (resource != null) {
          events.warning(resource, entry.reason, "node " + nodeName + ": " + entry.message);
        }
      }
    }
  }

  private static boolean sameJson(Object a, Object b) {
    JsonNode left = Serialization.jsonMapper().valueToTree(a);
    JsonNode right = Serialization.jsonMapper().valueToTree(b);
    return left.equals(right);
  }
}
