package io.strata.agent;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.OverlayMount;
import io.strata.kube.LabelSelectors;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What one node must serve, decided from its labels alone: the LayerSets whose selector matches,
 * and the OverlayMounts whose LayerSet is among them and whose own selector matches too. Objects
 * being deleted are not served. Pure, so the rules test without a cluster.
 */
public record Selection(List<LayerSet> layerSets, List<OverlayMount> overlayMounts) {

  public static Selection forNode(
      Map<String, String> nodeLabels,
      Collection<LayerSet> allLayerSets,
      Collection<OverlayMount> allOverlayMounts) {
    List<LayerSet> layerSets =
        allLayerSets.stream()
            .filter(ls -> !isDeleting(ls) && ls.getSpec() != null)
            .filter(ls -> LabelSelectors.matches(ls.getSpec().nodeSelector, nodeLabels))
            .sorted(BY_NAME)
            .limit(NodeLayerState.MAX_ENTRIES) // a node holds at most this many
            .toList();
    Set<String> served =
        layerSets.stream().map(ls -> ls.getMetadata().getName()).collect(Collectors.toSet());
    List<OverlayMount> overlayMounts =
        allOverlayMounts.stream()
            .filter(om -> !isDeleting(om) && om.getSpec() != null)
            .filter(om -> om.getSpec().layerSetRef != null)
            .filter(om -> served.contains(om.getSpec().layerSetRef.name))
            .filter(om -> LabelSelectors.matches(om.getSpec().nodeSelector, nodeLabels))
            .sorted(BY_NAME)
            .toList();
    return new Selection(layerSets, overlayMounts);
  }

  private static final Comparator<HasMetadata> BY_NAME =
      Comparator.comparing(o -> o.getMetadata().getName());

  private static boolean isDeleting(HasMetadata object) {
    return object.getMetadata().getDeletionTimestamp() != null;
  }
}
