package io.strata.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which nodes' pod volumes use a LayerSet: its status.volumeNodes and what its deletion waits for.
 */
class VolumeNodesTest {
  @Test
  void onlyNodesReportingVolumesOfThatLayerSetCount() {
    List<NodeLayerState> states =
        List.of(
            state("n2", entry("tools", 2), entry("other", 1)),
            state("n1", entry("tools", 1)),
            state("n3", entry("tools", null)),
            state("n4", entry("other", 3)),
            new NodeLayerState());

    assertThat(LayerSetReconciler.volumeNodes(states, "tools")).containsExactly("n1", "n2");
    assertThat(LayerSetReconciler.volumeNodes(states, "missing")).isEmpty();
  }

  private static NodeLayerState state(String node, LayerSetEntry... entries) {
    NodeLayerState state = new NodeLayerState();
    state.getMetadata().setName(node);
    state.setStatus(new NodeLayerState.Status());
    state.getStatus().layerSets = List.of(entries);
    return state;
  }

  private static LayerSetEntry entry(String name, Integer volumes) {
    LayerSetEntry entry = new LayerSetEntry();
    entry.name = name;
    entry.volumes = volumes;
    return entry;
  }
}
