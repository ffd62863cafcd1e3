package io.strata.controller;

import static io.strata.controller.LayerSetReconcilerTest.condition;
import static io.strata.controller.LayerSetReconcilerTest.layerSet;
import static io.strata.controller.LayerSetReconcilerTest.mount;
import static io.strata.controller.LayerSetReconcilerTest.state;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.strata.crd.NodeLayerState.MountPhase;
import io.strata.crd.NodeLayerState.OverlayMountEntry;
import io.strata.crd.OverlayMount;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What the OverlayMount reconciler makes of its LayerSet, the nodes and their reports, without an
 * API server: its nodes are its LayerSet's narrowed by its own selector.
 */
class OverlayMountReconcilerTest {
  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-12-01T10:00:00Z"), ZoneOffset.UTC);
  private static final List<Node> NODES =
      List.of(node("g1", "gpu", "a"), node("g2", "gpu", "b"), node("c1", "cpu", "a"));

  private final OverlayMountReconciler reconciler =
      new OverlayMountReconciler(CLOCK, null, null, null, null);

  @Test
  void itsNodesAreItsLayerSetsNarrowedByItsOwnSelector() {
    OverlayMount env = mount("env", "tools");
    env.getSpec().nodeSelector = new LabelSelectorBuilder().addToMatchLabels("zone", "a").build();
    Folded<OverlayMount.Status> folded =
        reconciler.fold(
            env,
            layerSet("tools", "gpu", 1),
            NODES,
            List.of(
                state("g1", entry("env", MountPhase.Mounted)),
                state("g2", entry("env", MountPhase.Mounted)), // zone b: not its node
                state("c1", entry("env", MountPhase.Mounted)))); // cpu: not the LayerSet's
    assertThat(folded.status().desiredNodes).isEqualTo(1);
    assertThat(folded.readyNodes()).containsExactly("g1");
    assertThat(condition(folded.status(), "Ready").getReason()).isEqualTo("AllNodesReady");
  }

  @Test
  void aNodeStillMountingIsInProgressAndNotLabelled() {
    Folded<OverlayMount.Status> folded =
        reconciler.fold(
            mount("env", "tools"),
            layerSet("tools", "gpu", 1),
            NODES,
            List.of(
                state("g1", entry("env", MountPhase.Mounted)),
                state("g2", entry("env", MountPhase.Pending))));
    assertThat(folded.readyNodes()).containsExactly("g1");
    assertThat(folded.status().readyNodes).isEqualTo(1);
    assertThat(condition(folded.status(), "Progressing").getReason()).isEqualTo("NodesInProgress");
  }

  @Test
  void withoutItsLayerSetNoNodeCanMountIt() {
    Folded<OverlayMount.Status> folded =
        reconciler.fold(
            mount("env", "gone"),
            null,
            NODES,
            List.of(state("g1", entry("env", MountPhase.Mounted))));
    assertThat(folded.status().desiredNodes).isZero();
    assertThat(folded.readyNodes()).isEmpty();
    assertThat(condition(folded.status(), "Ready").getReason()).isEqualTo("NoMatchingNodes");
  }

  @Test
  void aFailedMountIsListedWithItsReason() {
    OverlayMountEntry refused = entry("env", MountPhase.Failed);
    refused.reason = "UnsafeTarget";
    refused.message = "/etc is not under /mnt/strata";
    Folded<OverlayMount.Status> folded =
        reconciler.fold(
            mount("env", "tools"),
            layerSet("tools", "gpu", 1),
            NODES,
            List.of(state("g1", refused), state("g2", entry("env", MountPhase.Mounted))));
    assertThat(folded.status().failedNodes)
        .singleElement()
        .satisfies(f -> assertThat(f.reason).isEqualTo("UnsafeTarget"));
    assertThat(folded.readyNodes()).containsExactly("g2");
  }

  private static Node node(String name, String pool, String zone) {
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels("pool", pool)
        .addToLabels("zone", zone)
        .endMetadata()
        .build();
  }

  private static OverlayMountEntry entry(String name, MountPhase phase) {
    OverlayMountEntry entry = new OverlayMountEntry();
    entry.name = name;
    entry.phase = phase;
    entry.observedGeneration = 1L;
    return entry;
  }
}
