package io.strata.controller;

import io.fabric8.kubernetes.api.model.Node;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
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
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Writes each LayerSet's status summary; any Node change revisits every LayerSet. */
@ControllerConfiguration(name = LayerSetReconciler.NAME)
public class LayerSetReconciler implements Reconciler<LayerSet> {
  static final String NAME = "strata-layerset";

  private final StatusAggregator aggregator;

  public LayerSetReconciler(Clock clock) {
    this.aggregator = new StatusAggregator(clock);
  }

  @Override
  public List<EventSource<?, LayerSet>> prepareEventSources(EventSourceContext<LayerSet> context) {
    var nodes =
        InformerEventSourceConfiguration.from(Node.class, LayerSet.class)
            .withSecondaryToPrimaryMapper(
                node ->
                    context
                        .getPrimaryCache()
                        .list()
                        .map(ResourceID::fromResource)
                        .collect(Collectors.toSet()))
            .build();
    var states =
        InformerEventSourceConfiguration.from(NodeLayerState.class, LayerSet.class)
            .withSecondaryToPrimaryMapper(
                state ->
                    context
                        .getPrimaryCache()
                        .list()
                        .map(ResourceID::fromResource)
                        .collect(Collectors.toSet()))
            .build();
    return List.of(
        new InformerEventSource<>(nodes, context), new InformerEventSource<>(states, context));
  }

  @Override
  public UpdateControl<LayerSet> reconcile(LayerSet layerSet, Context<LayerSet> context) {
    String name = layerSet.getMetadata().getName();
    long generation = layerSet.getMetadata().getGeneration();
    List<String> desired =
        NodeCounts.matching(Secondaries.nodes(context), layerSet.getSpec().nodeSelector);
    Map<String, NodeReport> reports =
        Summaries.reports(
            Secondaries.nodeLayerStates(context),
            status ->
                status.layerSets.stream()
                    .filter(e -> name.equals(e.name))
                    .findFirst()
                    .map(
                        e ->
                            new NodeReport(
                                phase(e.phase),
                                e.reason,
                                e.message,
                                e.observedGeneration,
                                e.chainId))
                    .orElse(null));
    LayerSet.Status previous = layerSet.getStatus();
    Summary summary =
        aggregator.fold(
            desired, reports, "Ready", generation, previous == null ? null : previous.conditions);
    LayerSet.Status status = new LayerSet.Status();
    Summaries.fill(status, summary, generation);
    status.chainId = summary.chainId();
    status.resolvedImage = previous == null ? null : previous.resolvedImage;
    if (Summaries.same(previous, status)) {
      return UpdateControl.noUpdate();
    }
    LayerSet patch = new LayerSet();
    patch.getMetadata().setName(name);
    patch.setStatus(status);
    return UpdateControl.patchStatus(patch);
  }

  private static String phase(Enum<?> phase) {
    return phase == null ? null : phase.name();
  }
}
