package io.strata.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import io.strata.crd.NodeLayerState.MountPhase;
import io.strata.crd.NodeLayerState.OverlayMountEntry;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class CacheViewsTest {
  private static final String CHAIN = "sha256:" + "c".repeat(64);

  @Test
  void everySummaryFoldedFromViewsEqualsOneFoldedFromWholeObjects() {
    List<NodeLayerState> whole = new ArrayList<>();
    for (int n = 0; n < 40; n++) {
      whole.add(state("node-" + n, n));
    }
    List<NodeLayerState> views = whole.stream().map(CacheViews::nodeLayerState).toList();
    List<String> desired = whole.stream().map(s -> s.getMetadata().getName()).toList();
    for (String name : List.of("ls-0", "ls-1", "ls-2", "ls-3", "absent")) {
      for (long generation : new long[] {1, 2}) {
        assertThat(fold(desired, views, Summaries.layerSetReport(name), "Ready", generation))
            .as(name)
            .usingRecursiveComparison()
            .isEqualTo(fold(desired, whole, Summaries.layerSetReport(name), "Ready", generation));
        assertThat(fold(desired, views, Summaries.overlayMountReport(name), "Mounted", generation))
            .as(name)
            .usingRecursiveComparison()
            .isEqualTo(
                fold(desired, whole, Summaries.overlayMountReport(name), "Mounted", generation));
      }
    }
    // Teardown reads which names a node still lists, and which node it is.
    for (int n = 0; n < whole.size(); n++) {
      assertThat(views.get(n).getMetadata().getName())
          .isEqualTo(whole.get(n).getMetadata().getName());
      assertThat(views.get(n).getStatus().layerSets)
          .extracting(e -> e.name)
          .isEqualTo(whole.get(n).getStatus().layerSets.stream().map(e -> e.name).toList());
    }
  }

  @Test
  void aViewKeepsTheVersionAndDropsWhatTheControllerNeverReads() {
    NodeLayerState full = state("node-1", 1);
    full.getStatus().layerSets.getFirst().volumes = 3;
    NodeLayerState view = CacheViews.nodeLayerState(full);
    assertThat(view.getStatus().layerSets.getFirst().volumes)
        .as("pod volume counts: status.volumeNodes and the InUse wait read them")
        .isEqualTo(3);
    assertThat(view.getMetadata().getResourceVersion()).isEqualTo("41");
    assertThat(view.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(view.getStatus().layerSets).allSatisfy(e -> assertThat(e.root).isNull());
    assertThat(view.getStatus().overlayMounts).allSatisfy(e -> assertThat(e.lowerdir).isNull());
    assertThat(view.getStatus().cache).isNull();
    // The messages kept are the failures' only: what failedNodes shows.
    assertThat(view.getStatus().layerSets)
        .filteredOn(e -> e.message != null)
        .allSatisfy(e -> assertThat(e.phase).isEqualTo(LayerSetPhase.Failed));
  }

  @Test
  void aNodeViewKeepsNameVersionAndLabelsOnly() {
    Node full =
        new NodeBuilder()
            .withNewMetadata()
            .withName("n1")
            .withResourceVersion("7")
            .withLabels(Map.of("disk", "ssd"))
            .withAnnotations(Map.of("big", "x".repeat(1000)))
            .endMetadata()
            .withNewStatus()
            .addNewImage()
            .withNames("registry.invalid/some/image:1")
            .withSizeBytes(1L)
            .endImage()
            .endStatus()
            .build();
    Node view = CacheViews.node(full);
    assertThat(view.getMetadata().getName()).isEqualTo("n1");
    assertThat(view.getMetadata().getResourceVersion()).isEqualTo("7");
    assertThat(view.getMetadata().getLabels()).containsExactlyEntriesOf(Map.of("disk", "ssd"));
    assertThat(view.getMetadata().getAnnotations()).isNullOrEmpty();
    assertThat(view.getStatus()).isNull();
    assertThat(
            NodeCounts.matching(
                List.of(view),
                new LabelSelectorBuilder().withMatchLabels(Map.of("disk", "ssd")).build()))
        .containsExactly("n1");
  }

  private static StatusAggregator.Summary fold(
      List<String> desired,
      List<NodeLayerState> states,
      Function<NodeLayerState.Status, StatusAggregator.NodeReport> report,
      String readyPhase,
      long generation) {
    return new StatusAggregator(
            Clock.fixed(Instant.parse("2026-11-28T10:00:00Z"), ZoneOffset.UTC),
            NeedsChange.LAYER_SET)
        .fold(desired, Summaries.reports(states, report), readyPhase, generation, null);
  }

  /** A node's state with every kind of entry, varied by {@code n}. */
  private static NodeLayerState state(String node, int n) {
    NodeLayerState s = new NodeLayerState();
    s.getMetadata().setName(node);
    s.getMetadata().setResourceVersion("41");
    s.getMetadata().setManagedFields(List.of(new ManagedFieldsEntry()));
    NodeLayerState.Status status = new NodeLayerState.Status();
    for (int i = 0; i < 4; i++) {
      if ((n + i) % 5 == 0) {
        continue; // this node does not list it
      }
      LayerSetEntry e = new LayerSetEntry();
      e.name = "ls-" + i;
      e.observedGeneration = (long) (1 + (n + i) % 2);
      e.phase = LayerSetPhase.values()[(n + i) % LayerSetPhase.values().length];
      e.reason = e.phase == LayerSetPhase.Failed ? "DigestMismatch" : null;
      e.message = "layer " + i + " on " + node;
      e.chainId = e.phase == LayerSetPhase.Ready ? CHAIN : null;
      e.root = "/var/lib/strata/layers/" + "d".repeat(64) + "/root";
      e.bytes = 1L << 20;
      e.lastTransitionTime = "2026-11-28T10:00:00Z";
      status.layerSets.add(e);
      OverlayMountEntry m = new OverlayMountEntry();
      m.name = "ls-" + i;
      m.observedGeneration = 1L;
      m.phase = MountPhase.values()[(n + i) % MountPhase.values().length];
      m.reason = m.phase == MountPhase.Failed ? "TargetBusy" : null;
      m.message = "mount " + i + " on " + node;
      m.lowerdir = e.root;
      m.target = "/run/strata/mounts/ls-" + i;
      status.overlayMounts.add(m);
    }
    status.cache = new NodeLayerState.Cache();
    status.cache.bytes = 1L;
    s.setStatus(status);
    return s;
  }
}
