package io.strata.testing;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.OverlayMountEntry;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/** What an agent has reported in its node's NodeLayerState, as the API server has it now. */
public final class NodeStates {
  private NodeStates() {}

  /** The node's entry for LayerSet {@code name}; empty until the agent reports one. */
  public static Optional<LayerSetEntry> layerSet(
      KubernetesClient client, String node, String name) {
    return find(client, node, status -> status.layerSets, e -> e.name, name);
  }

  /** The node's entry for OverlayMount {@code name}; empty until the agent reports one. */
  public static Optional<OverlayMountEntry> overlayMount(
      KubernetesClient client, String node, String name) {
    return find(client, node, status -> status.overlayMounts, e -> e.name, name);
  }

  private static <E> Optional<E> find(
      KubernetesClient client,
      String node,
      Function<NodeLayerState.Status, List<E>> entries,
      Function<E, String> nameOf,
      String name) {
    NodeLayerState state = client.resources(NodeLayerState.class).withName(node).get();
    if (state == null || state.getStatus() == null || entries.apply(state.getStatus()) == null) {
      return Optional.empty();
    }
    return entries.apply(state.getStatus()).stream()
        .filter(e -> name.equals(nameOf.apply(e)))
        .findFirst();
  }
}
