package io.strata.controller;

import io.fabric8.kubernetes.api.model.Node;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.strata.controller.StatusAggregator.NodeReport;
import io.strata.controller.StatusAggregator.Summary;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.OverlayMount;
import io.strata.crd.StrataApi;
import io.strata.kube.EventRecorder;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Writes each OverlayMount's status summary. Its nodes are its LayerSet's nodes narrowed by its own
 * selector, so both Node and LayerSet changes revisit it.
 */
@ControllerConfiguration(
    name = OverlayMountReconciler.NAME,
    finalizerName = StrataApi.TEARDOWN_FINALIZER)
public class OverlayMountReconciler implements Reconciler<OverlayMount>, Cleaner<OverlayMount> {
  static final String NAME = "strata-overlaymount";

  private final StatusAggregator aggregator;
  private final Teardown teardown;
  private final NodeLabels labels;
  private final EventRecorder events;
  private final ObjectMetrics metrics;

  OverlayMountReconciler(
      Clock clock,
      Teardown teardown,
      NodeLabels labels,
      EventRecorder events,
      ObjectMetrics metrics) {
    this.aggregator = new StatusAggregator(clock, NeedsChange.OVERLAY_MOUNT);
    this.teardown = teardown;
    this.labels = labels;
    this.events = events;
    this.metrics = metrics;
  }

  /**
   * Deleted: the finalizer stays until no live selected node lists the mount (agents drop their
   * entry once unmounted), unless {@code deletionPolicy: Orphan}; its node label goes with it.
   */
  @Override
  public DeleteControl cleanup(OverlayMount mount, Context<OverlayMount> context) {
    String name = mount.getMetadata().getName();
    Optional<DeleteControl> waiting =
        teardown.waitForNodes(
            context,
            mount.getSpec().deletionPolicy,
            status -> status.overlayMounts.stream().map(e -> e.name).collect(Collectors.toSet()),
            name);
    if (waiting.isPresent()) {
      return waiting.get();
    }
    labels.want(
        Secondaries.nodes(context),
        StrataApi.OVERLAYMOUNT_LABEL_PREFIX + name,
        "mounted",
        Set.of());
    metrics.remove(name);
    events.normal(
        mount, ControllerReason.TornDown.name(), Teardown.tornDown(mount.getSpec().deletionPolicy));
    return DeleteControl.defaultDelete();
  }

  @Override
  public List<EventSource<?, OverlayMount>> prepareEventSources(
      EventSourceContext<OverlayMount> context) {
    var layerSets =
        InformerEventSourceConfiguration.from(LayerSet.class, OverlayMount.class)
            .withSecondaryToPrimaryMapper(
                layerSet ->
                    context
                        .getPrimaryCache()
                        .list(om -> refersTo(om, layerSet.getMetadata().getName()))
                        .map(ResourceID::fromResource)
                        .collect(Collectors.toSet()))
            .build();
    return List.of(
        Secondaries.nodeSource(OverlayMount.class, context),
        new InformerEventSource<>(layerSets, context),
        Secondaries.nodeLayerStateSource(OverlayMount.class, context));
  }

  @Override
  public UpdateControl<OverlayMount> reconcile(OverlayMount mount, Context<OverlayMount> context) {
    String name = mount.getMetadata().getName();
    List<Node> nodes = Secondaries.nodes(context); // once per pass: thousands at scale
    Folded<OverlayMount.Status> folded =
        fold(
            mount,
            Secondaries.layerSet(context, mount.getSpec().layerSetRef.name).orElse(null),
            nodes,
            Secondaries.nodeLayerStates(context));
    labels.want(nodes, StrataApi.OVERLAYMOUNT_LABEL_PREFIX + name, "mounted", folded.readyNodes());
    OverlayMount.Status previous = mount.getStatus();
    OverlayMount.Status status = folded.status();
    metrics.set(name, status);
    ConditionEvents.record(
        events, mount, previous == null ? null : previous.conditions, status.conditions);
    if (Summaries.same(previous, status)) {
      return UpdateControl.noUpdate();
    }
    OverlayMount patch = new OverlayMount();
    patch.getMetadata().setName(name);
    patch.setStatus(status);
    return UpdateControl.patchStatus(patch);
  }

  /**
   * What a pass makes of {@code mount} from its LayerSet (null: none), the Nodes and their
   * NodeLayerStates: its status and the nodes to label mounted. Its nodes are its LayerSet's,
   * narrowed by its own selector.
   */
  Folded<OverlayMount.Status> fold(
      OverlayMount mount, LayerSet layerSet, List<Node> nodes, List<NodeLayerState> states) {
    String name = mount.getMetadata().getName();
    long generation = mount.getMetadata().getGeneration();
    List<String> desired =
        layerSet == null
            ? List.of() // no LayerSet, no lower: no node can mount it
            : NodeCounts.matching(
                nodes, layerSet.getSpec().nodeSelector, mount.getSpec().nodeSelector);
    Map<String, NodeReport> reports = Summaries.reports(states, Summaries.overlayMountReport(name));
    OverlayMount.Status previous = mount.getStatus();
    Summary summary =
        aggregator.fold(
            desired, reports, "Mounted", generation, previous == null ? null : previous.conditions);
    OverlayMount.Status status = new OverlayMount.Status();
    Summaries.fill(status, summary, generation);
    return new Folded<>(status, Set.copyOf(summary.readyNodes()));
  }

  private static boolean refersTo(OverlayMount mount, String layerSetName) {
    return mount.getSpec() != null
        && mount.getSpec().layerSetRef != null
        && Objects.equals(mount.getSpec().layerSetRef.name, layerSetName);
  }
}
