package io.strata.agent;

import static io.strata.agent.SelectionTest.layerSet;
import static io.strata.agent.SelectionTest.mount;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import io.strata.crd.NodeLayerState.MountPhase;
import io.strata.crd.NodeLayerState.OverlayMountEntry;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeStatusBuilderTest {
  private static final Instant T0 = Instant.parse("2026-11-28T10:00:00Z");
  private static final Selection ONE_SET_ONE_MOUNT =
      new Selection(
          List.of(layerSet("a", null)),
          List.of(mount("m", "a", null)),
          List.of(),
          Map.of("a", List.of(Selection.SELECTOR)),
          Map.of());

  @Test
  void aServedLayerSetWithNoStateYetIsPending() {
    NodeLayerState.Status status =
        builderAt(T0)
            .build(ONE_SET_ONE_MOUNT, Map.of(), List.of(mountEntry("m", MountPhase.Pending)), null);
    assertThat(status.layerSets)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.name).isEqualTo("a");
              assertThat(e.phase).isEqualTo(LayerSetPhase.Pending);
              assertThat(e.observedGeneration).isEqualTo(1L);
              assertThat(e.lastTransitionTime).isEqualTo("2026-11-28T10:00:00Z");
            });
    assertThat(status.overlayMounts)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.phase).isEqualTo(MountPhase.Pending);
              assertThat(e.observedGeneration).isEqualTo(1L);
            });
    assertThat(status.summary.ready).isEqualTo("0/2");
  }

  /**
   * LayerSets past the node's bound are listed as Failed, NodeLimit, so the controller reports them
   * on the LayerSet; only so many, so the object stays bounded.
   */
  @Test
  void layerSetsPastTheBoundAreFailedWithNodeLimitUpToTheirOwnBound() {
    List<io.strata.crd.LayerSet> refused = new java.util.ArrayList<>();
    for (int i = 0; i < NodeLayerState.MAX_REFUSED_ENTRIES + 5; i++) {
      refused.add(layerSet(String.format("late-%02d", i), null));
    }
    NodeLayerState.Status status =
        builderAt(T0)
            .build(
                new Selection(List.of(layerSet("a", null)), List.of(), refused, Map.of(), Map.of()),
                Map.of("a", layerSetEntry(LayerSetPhase.Ready)),
                List.of(),
                null);
    assertThat(status.layerSets).hasSize(1 + NodeLayerState.MAX_REFUSED_ENTRIES);
    assertThat(status.layerSets.getFirst().phase).isEqualTo(LayerSetPhase.Ready);
    assertThat(status.layerSets.subList(1, status.layerSets.size()))
        .allSatisfy(
            e -> {
              assertThat(e.phase).isEqualTo(LayerSetPhase.Failed);
              assertThat(e.reason).isEqualTo("NodeLimit");
              assertThat(e.message).contains("at most " + NodeLayerState.MAX_ENTRIES);
            });
  }

  /** A presigned URL or a URL with a password in a failure never reaches the status. */
  @Test
  void urlsInMessagesAreRedacted() {
    LayerSetEntry failed = layerSetEntry(LayerSetPhase.Failed);
    failed.message = "fetching https://u:p@files.example/l.tar?X-Amz-Signature=s failed";
    NodeLayerState.Status status =
        builderAt(T0).build(ONE_SET_ONE_MOUNT, Map.of("a", failed), List.of(), null);
    assertThat(status.layerSets.getFirst().message)
        .isEqualTo("fetching https://***@files.example/l.tar?... failed");
  }

  @Test
  void transitionTimesMoveOnlyWhenThePhaseDoes() {
    NodeLayerState.Status first =
        builderAt(T0)
            .build(
                ONE_SET_ONE_MOUNT,
                Map.of("a", layerSetEntry(LayerSetPhase.Fetching)),
                List.of(mountEntry("m", MountPhase.Pending)),
                null);
    NodeLayerState.Status stillFetching =
        builderAt(T0.plusSeconds(30))
            .build(
                ONE_SET_ONE_MOUNT,
                Map.of("a", layerSetEntry(LayerSetPhase.Fetching)),
                List.of(mountEntry("m", MountPhase.Pending)),
                first);
    assertThat(stillFetching.layerSets.getFirst().lastTransitionTime)
        .isEqualTo("2026-11-28T10:00:00Z");

    NodeLayerState.Status ready =
        builderAt(T0.plusSeconds(60))
            .build(
                ONE_SET_ONE_MOUNT,
                Map.of("a", layerSetEntry(LayerSetPhase.Ready)),
                List.of(mountEntry("m", MountPhase.Mounted)),
                stillFetching);
    assertThat(ready.layerSets.getFirst().lastTransitionTime).isEqualTo("2026-11-28T10:01:00Z");
    assertThat(ready.overlayMounts.getFirst().lastTransitionTime).isEqualTo("2026-11-28T10:01:00Z");
    assertThat(ready.summary.ready).isEqualTo("2/2");
  }

  @Test
  void mountsBeingTornDownAreListedWithoutAGeneration() {
    NodeLayerState.Status status =
        builderAt(T0)
            .build(
                new Selection(List.of(), List.of(), List.of(), Map.of(), Map.of()),
                Map.of(),
                List.of(mountEntry("gone", MountPhase.Unmounting)),
                null);
    assertThat(status.overlayMounts)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.phase).isEqualTo(MountPhase.Unmounting);
              assertThat(e.observedGeneration).isNull();
            });
  }

  @Test
  void anUnchangedNodeBuildsAnEqualStatus() {
    Map<String, LayerSetEntry> sets = Map.of("a", layerSetEntry(LayerSetPhase.Ready));
    List<OverlayMountEntry> mounts = List.of(mountEntry("m", MountPhase.Mounted));
    NodeLayerState.Status first = builderAt(T0).build(ONE_SET_ONE_MOUNT, sets, mounts, null);
    NodeLayerState.Status again =
        builderAt(T0.plusSeconds(60)).build(ONE_SET_ONE_MOUNT, sets, mounts, first);
    JsonNode firstJson = Serialization.jsonMapper().valueToTree(first);
    JsonNode againJson = Serialization.jsonMapper().valueToTree(again);
    assertThat(againJson).isEqualTo(firstJson);
  }

  private static LayerSetEntry layerSetEntry(LayerSetPhase phase) {
    LayerSetEntry entry = new LayerSetEntry();
    entry.phase = phase;
    return entry;
  }

  private static OverlayMountEntry mountEntry(String name, MountPhase phase) {
    OverlayMountEntry entry = new OverlayMountEntry();
    entry.name = name;
    entry.phase = phase;
    return entry;
  }

  private static NodeStatusBuilder builderAt(Instant now) {
    return new NodeStatusBuilder(Clock.fixed(now, ZoneOffset.UTC));
  }
}
