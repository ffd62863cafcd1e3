package io.strata.agent;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.csi.LayerSetRoots;
import io.strata.csi.VolumeRefusedException;
import io.strata.csi.VolumeRefusedException.Code;
import io.strata.kube.LabelSelectors;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Answers the CSI plugin from what the agent knows: the LayerSet from its cache, whether the pod's
 * namespace may mount it, and where it stands on this node from the agent's last status. A LayerSet
 * the node does not hold is asked for ({@link VolumeDemand}): the next pass fetches it.
 */
final class VolumeLayerSets implements LayerSetRoots {
  /** Labels of a namespace; empty when there is no such namespace. */
  @FunctionalInterface
  interface NamespaceLabels {
    Optional<Map<String, String>> of(String namespace);
  }

  private final String nodeName;
  private final Function<String, Optional<LayerSet>> layerSets;
  private final NamespaceLabels namespaces;
  private final Supplier<NodeLayerState.Status> status;
  private final VolumeDemand demand;
  private final Runnable onDemand;

  /**
   * @param status the node's last status: where each LayerSet stands here
   * @param demand where a pod's request for a LayerSet the node does not hold is noted
   * @param onDemand asks the agent for a pass, which starts fetching what was asked for
   */
  VolumeLayerSets(
      String nodeName,
      Function<String, Optional<LayerSet>> layerSets,
      NamespaceLabels namespaces,
      Supplier<NodeLayerState.Status> status,
      VolumeDemand demand,
      Runnable onDemand) {
    this.nodeName = nodeName;
    this.layerSets = layerSets;
    this.namespaces = namespaces;
    this.status = status;
    this.demand = demand;
    this.onDemand = onDemand;
  }

  @Override
  public Path rootFor(String name, String namespace) throws VolumeRefusedException {
    LayerSet layerSet =
        layerSets
            .apply(name)
            .orElseThrow(
                () ->
                    new VolumeRefusedException(Code.NOT_FOUND, "LayerSet " + name + " not found"));
    if (layerSet.getMetadata().getDeletionTimestamp() != null) {
      throw new VolumeRefusedException(
          Code.FAILED_PRECONDITION,
          "LayerSet " + name + " is being deleted: it takes no new volumes");
    }
    requireAccess(layerSet, namespace);
    demand.ask(name); // refreshed at every call: kubelet asks again while the pod waits
    LayerSetEntry entry = entry(name);
    if (entry == null) {
      onDemand.run();
      throw new VolumeRefusedException(
          Code.UNAVAILABLE,
          "LayerSet " + name + " is not on node " + nodeName + " yet: fetching it for this volume");
    }
    return switch (entry.phase) {
      case Ready -> Path.of(entry.root);
      case Failed ->
          throw new VolumeRefusedException(
              Code.UNAVAILABLE,
              "LayerSet "
                  + name
                  + " failed on node "
                  + nodeName
                  + ": "
                  + entry.reason
                  + (entry.message != null ? ": " + entry.message : ""));
      case null, default ->
          throw new VolumeRefusedException(
              Code.UNAVAILABLE,
              "LayerSet "
                  + name
                  + " is "
                  + phase(entry)
                  + " on node "
                  + nodeName
                  + progress(entry));
    };
  }

  private void requireAccess(LayerSet layerSet, String namespace) throws VolumeRefusedException {
    LayerSet.VolumeAccess access = layerSet.getSpec().volumeAccess;
    LabelSelector selector = access != null ? access.namespaceSelector : null;
    String refusal = null;
    if (selector == null) {
      refusal = "admits no namespace";
    } else {
      Optional<Map<String, String>> labels = namespaces.of(namespace);
      if (labels.isEmpty() || !LabelSelectors.matches(selector, labels.get())) {
        refusal = "does not select it";
      }
    }
    if (refusal != null) {
      throw new VolumeRefusedException(
          Code.PERMISSION_DENIED,
          "LayerSet "
              + layerSet.getMetadata().getName()
              + " may not be mounted as a volume in namespace "
              + namespace
              + ": its spec.volumeAccess.namespaceSelector "
              + refusal);
    }
  }

  private LayerSetEntry entry(String name) {
    NodeLayerState.Status now = status.get();
    if (now == null || now.layerSets == null) {
      return null;
    }
    return now.layerSets.stream().filter(e -> name.equals(e.name)).findFirst().orElse(null);
  }

  private static String phase(LayerSetEntry entry) {
    return entry.phase == null ? "Pending" : entry.phase.name();
  }

  private static String progress(LayerSetEntry entry) {
    if (entry.fetchedBytes == null || entry.totalBytes == null || entry.totalBytes <= 0) {
      return "";
    }
    return ": " + Math.min(100, entry.fetchedBytes * 100 / entry.totalBytes) + "%";
  }
}
