package io.strata.controller;

import io.fabric8.kubernetes.api.model.LabelSelector;
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
import io.strata.crd.OverlayMount;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Writes each OverlayMount's status summary. Its nodes are its LayerSet's nodes narrowed by its own
 * selector, so both Node and LayerSet changes revisit it.
 */
@ControllerConfiguration(name = OverlayMountReconciler.NAME)
public class OverlayMountReconciler implements Reconciler<OverlayMount> {
  static final String NAME = "strata-overlaymount";

  @Override
  public List<EventSource<?, OverlayMount>> prepareEventSources(
      EventSourceContext<OverlayMount> context) {
    var nodes =
        InformerEventSourceConfiguration.from(Node.class, OverlayMount.class)
            .withSecondaryToPrimaryMapper(
                node ->
                    context
                        .getPrimaryCache()
                        .list()
                        .map(ResourceID::fromResource)
                        .collect(Collectors.toSet()))
            .build();
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
        new InformerEventSource<>(nodes, context), new InformerEventSource<>(layerSets, context));
  }

  @Override
  public UpdateControl<OverlayMount> reconcile(OverlayMount mount, Context<OverlayMount> context) {
    String layerSetName = mount.getSpec().layerSetRef.name;
    LayerSet layerSet = Secondaries.layerSet(context, layerSetName).orElse(null);

    OverlayMount.Status status = new OverlayMount.Status();
    status.observedGeneration = mount.getMetadata().getGeneration();
    if (layerSet == null) {
      status.desiredNodes = 0; // no LayerSet, no lower: no node can mount it
    } else {
      LabelSelector lower = layerSet.getSpec().nodeSelector;
      status.desiredNodes =
          NodeCounts.matching(Secondaries.nodes(context), lower, mount.getSpec().nodeSelector);
    }
    OverlayMount patch = new OverlayMount();
    patch.getMetadata().setName(mount.getMetadata().getName());
    patch.setStatus(status);
    return UpdateControl.patchStatus(patch);
  }

  private static boolean refersTo(OverlayMount mount, String layerSetName) {
    return mount.getSpec() != null
        && mount.getSpec().layerSetRef != null
        && Objects.equals(mount.getSpec().layerSetRef.name, layerSetName);
  }
}
