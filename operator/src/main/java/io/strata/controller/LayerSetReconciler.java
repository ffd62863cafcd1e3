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
import io.strata.crd.LayerSet;
import java.util.List;
import java.util.stream.Collectors;

/** Writes each LayerSet's status summary; any Node change revisits every LayerSet. */
@ControllerConfiguration(name = LayerSetReconciler.NAME)
public class LayerSetReconciler implements Reconciler<LayerSet> {
  static final String NAME = "strata-layerset";

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
    return List.of(new InformerEventSource<>(nodes, context));
  }

  @Override
  public UpdateControl<LayerSet> reconcile(LayerSet layerSet, Context<LayerSet> context) {
    List<Node> nodes = Secondaries.nodes(context);
    LayerSet.Status status = new LayerSet.Status();
    status.observedGeneration = layerSet.getMetadata().getGeneration();
    status.desiredNodes = NodeCounts.matching(nodes, layerSet.getSpec().nodeSelector);

    LayerSet patch = new LayerSet();
    patch.getMetadata().setName(layerSet.getMetadata().getName());
    patch.setStatus(status);
    return UpdateControl.patchStatus(patch);
  }
}
