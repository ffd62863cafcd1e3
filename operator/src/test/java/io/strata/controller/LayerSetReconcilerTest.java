package io.strata.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import io.strata.crd.OverlayMount;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What the LayerSet reconciler makes of the nodes and their reports, without an API server: which
 * nodes it counts, which it labels, what it says, and what a deletion waits for.
 */
class LayerSetReconcilerTest {
  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-12-01T10:00:00Z"), ZoneOffset.UTC);
  private static final String CHAIN = "sha256:" + "c".repeat(64);
  private static final String OTHER_CHAIN = "sha256:" + "d".repeat(64);
  private static final List<Node> NODES =
      List.of(node("g1", "gpu"), node("g2", "gpu"), node("c1", "cpu"));

  private final LayerSetReconciler reconciler =
      new LayerSetReconciler(CLOCK, null, null, null, null, null);

  @Test
  void nodesTheSelectorMatchesAreCountedAndOnlyReadyOnesLabelled() {
    LayerSet gpu = layerSet("tools", "gpu", 2);
    Folded<LayerSet.Status> folded =
        reconciler.fold(
            gpu,
            NODES,
            List.of(
                state("g1", ready("tools", 2, CHAIN)),
                state("g2", entry("tools", LayerSetPhase.Fetching, 2)),
                state("c1", ready("tools", 2, CHAIN)))); // not selected: not counted
    assertThat(folded.readyNodes()).containsExactly("g1");
    LayerSet.Status status = folded.status();
    assertThat(status.desiredNodes).isEqualTo(2);
    assertThat(status.readyNodes).isEqualTo(1);
    assertThat(status.observedGeneration).isEqualTo(2L);
    assertThat(condition(status, "Ready").getReason()).isEqualTo("NodesNotReady");
    assertThat(condition(status, "Progressing").getStatus()).isEqualTo("True");
  }

  @Test
  void everySelectedNodeReadyOnOneRootGivesItsChainId() {
    Folded<LayerSet.Status> folded =
        reconciler.fold(
            layerSet("tools", "gpu", 1),
            NODES,
            List.of(state("g1", ready("tools", 1, CHAIN)), state("g2", ready("tools", 1, CHAIN))));
    assertThat(folded.readyNodes()).containsExactlyInAnyOrder("g1", "g2");
    assertThat(folded.status().chainId).isEqualTo(CHAIN);
    assertThat(condition(folded.status(), "Ready").getReason()).isEqualTo("AllNodesReady");
  }

  @Test
  void nodesThatDisagreeOnTheRootLeaveTheChainIdUnset() {
    Folded<LayerSet.Status> folded =
        reconciler.fold(
            layerSet("tools", "gpu", 1),
            NODES,
            List.of(
                state("g1", ready("tools", 1, CHAIN)),
                state("g2", ready("tools", 1, OTHER_CHAIN))));
    assertThat(folded.status().chainId).isNull();
  }

  @Test
  void aReportOfAnOlderGenerationIsNotReadyAndAFailureIsListedWithItsReason() {
    LayerSetEntry failed = entry("tools", LayerSetPhase.Failed, 3);
    failed.reason = "DigestMismatch";
    failed.message = "sha256:… has another digest";
    Folded<LayerSet.Status> folded =
        reconciler.fold(
            layerSet("tools", "gpu", 3),
            NODES,
            List.of(state("g1", ready("tools", 2, CHAIN)), state("g2", failed)));
    assertThat(folded.readyNodes()).isEmpty();
    assertThat(folded.status().failedNodes)
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.nodeName).isEqualTo("g2");
              assertThat(f.reason).isEqualTo("DigestMismatch");
            });
    assertThat(condition(folded.status(), "Degraded").getReason()).isEqualTo("NodesFailed");
  }

  @Test
  void aSelectorNoNodeMatchesSaysSo() {
    Folded<LayerSet.Status> folded = reconciler.fold(layerSet("tools", "arm", 1), NODES, List.of());
    assertThat(folded.status().desiredNodes).isZero();
    assertThat(condition(folded.status(), "Ready").getReason()).isEqualTo("NoMatchingNodes");
  }

  /** Pod volumes count wherever they are, selected or asked for by a pod. */
  @Test
  void volumeNodesCountEveryNodeWithVolumesOfIt() {
    LayerSetEntry onCpu = ready("tools", 1, CHAIN);
    onCpu.volumes = 2;
    LayerSetEntry onGpu = ready("tools", 1, CHAIN);
    onGpu.volumes = 1;
    LayerSetEntry none = ready("tools", 1, CHAIN);
    none.volumes = 0;
    Folded<LayerSet.Status> folded =
        reconciler.fold(
            layerSet("tools", "gpu", 1),
            NODES,
            List.of(state("c1", onCpu), state("g1", onGpu), state("g2", none)));
    assertThat(folded.status().volumeNodes).isEqualTo(2);

    Folded<LayerSet.Status> without =
        reconciler.fold(layerSet("tools", "gpu", 1), NODES, List.of(state("g1", none)));
    assertThat(without.status().volumeNodes).isNull();
  }

  @Test
  void aDeletionWaitsForAnOverlayMountOnItThenForPodVolumesOfIt() {
    LayerSetEntry used = ready("tools", 1, CHAIN);
    used.volumes = 2;
    LayerSetEntry alsoUsed = ready("tools", 1, CHAIN);
    alsoUsed.volumes = 1;
    LayerSetEntry unused = ready("tools", 1, CHAIN);
    LayerSetEntry otherSet = ready("other", 1, CHAIN);
    otherSet.volumes = 3;
    List<NodeLayerState> states =
        List.of(
            state("n2", used, otherSet),
            state("n1", alsoUsed),
            state("n3", unused),
            new NodeLayerState()); // an agent that has not reported yet

    assertThat(LayerSetReconciler.deletionWaitsFor("tools", List.of(mount("env", "tools")), states))
        .hasValueSatisfying(why -> assertThat(why).contains("an OverlayMount still uses"));
    assertThat(LayerSetReconciler.deletionWaitsFor("tools", List.of(mount("env", "other")), states))
        .hasValue(
            "pod volumes on 2 nodes (first n1) still use this LayerSet; it goes when their pods"
                + " end");
    assertThat(LayerSetReconciler.deletionWaitsFor("missing", List.of(), states)).isEmpty();
    assertThat(LayerSetReconciler.deletionWaitsFor("tools", List.of(), List.of())).isEmpty();
  }

  static Node node(String name, String pool) {
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels("pool", pool)
        .endMetadata()
        .build();
  }

  static LayerSet layerSet(String name, String pool, long generation) {
    LayerSet layerSet = new LayerSet();
    layerSet.getMetadata().setName(name);
    layerSet.getMetadata().setGeneration(generation);
    layerSet.setSpec(new LayerSet.Spec());
    layerSet.getSpec().nodeSelector =
        new LabelSelectorBuilder().addToMatchLabels("pool", pool).build();
    return layerSet;
  }

  static OverlayMount mount(String name, String layerSet) {
    OverlayMount mount = new OverlayMount();
    mount.getMetadata().setName(name);
    mount.getMetadata().setGeneration(1L);
    mount.setSpec(new OverlayMount.Spec());
    mount.getSpec().layerSetRef = new OverlayMount.LayerSetReference(layerSet);
    return mount;
  }

  static NodeLayerState state(String node, NodeLayerState.Entry... entries) {
    NodeLayerState state = new NodeLayerState();
    state.getMetadata().setName(node);
    state.setStatus(new NodeLayerState.Status());
    List<LayerSetEntry> layerSets = new ArrayList<>();
    List<NodeLayerState.OverlayMountEntry> mounts = new ArrayList<>();
    for (NodeLayerState.Entry entry : entries) {
      if (entry instanceof LayerSetEntry e) {
        layerSets.add(e);
      } else {
        mounts.add((NodeLayerState.OverlayMountEntry) entry);
      }
    }
    state.getStatus().layerSets = layerSets;
    state.getStatus().overlayMounts = mounts;
    return state;
  }

  static LayerSetEntry entry(String name, LayerSetPhase phase, long generation) {
    LayerSetEntry entry = new LayerSetEntry();
    entry.name = name;
    entry.phase = phase;
    entry.observedGeneration = generation;
    return entry;
  }

  static LayerSetEntry ready(String name, long generation, String chainId) {
    LayerSetEntry entry = entry(name, LayerSetPhase.Ready, generation);
    entry.chainId = chainId;
    return entry;
  }

  static Condition condition(io.strata.crd.NodeSummaryStatus status, String type) {
    return status.conditions.stream()
        .filter(c -> type.equals(c.getType()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no condition " + type + " in " + status.conditions));
  }
}
