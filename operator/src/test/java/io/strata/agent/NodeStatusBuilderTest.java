package io.strata.agent;

import static io.strata.agent.SelectionTest.layerSet;
import static io.strata.agent.SelectionTest.mount;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.crd.AgentReason;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import io.strata.crd.NodeLayerState.MountPhase;
import io.strata.crd.NodeLayerState.OverlayMountEntry;
import io.strata.fetch.FetchException;
import io.strata.layerstore.LayerStore.Materialized;
import io.strata.oci.Digest;
import io.strata.tarapply.LayerException;
import java.nio.file.Path;
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
                Map.of("a", ready()),
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
    LayerSetProgress failed =
        LayerSetProgress.start("spec", new LayerSetProgress.Pending(null, null))
            .failed(
                FetchException.Reason.NotFound,
                "fetching https://u:p@files.example/l.tar?X-Amz-Signature=s failed",
                0);
    NodeLayerState.Status status =
        builderAt(T0).build(ONE_SET_ONE_MOUNT, Map.of("a", failed), List.of(), null);
    assertThat(status.layerSets.getFirst().message)
        .isEqualTo("fetching https://***@files.example/l.tar?... failed (trying again in 10s)");
  }

  @Test
  void transitionTimesMoveOnlyWhenThePhaseDoes() {
    NodeLayerState.Status first =
        builderAt(T0)
            .build(
                ONE_SET_ONE_MOUNT,
                Map.of("a", fetching()),
                List.of(mountEntry("m", MountPhase.Pending)),
                null);
    NodeLayerState.Status stillFetching =
        builderAt(T0.plusSeconds(30))
            .build(
                ONE_SET_ONE_MOUNT,
                Map.of("a", fetching()),
                List.of(mountEntry("m", MountPhase.Pending)),
                first);
    assertThat(stillFetching.layerSets.getFirst().lastTransitionTime)
        .isEqualTo("2026-11-28T10:00:00Z");

    NodeLayerState.Status ready =
        builderAt(T0.plusSeconds(60))
            .build(
                ONE_SET_ONE_MOUNT,
                Map.of("a", ready()),
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
    Map<String, LayerSetProgress> sets = Map.of("a", ready());
    List<OverlayMountEntry> mounts = List.of(mountEntry("m", MountPhase.Mounted));
    NodeLayerState.Status first = builderAt(T0).build(ONE_SET_ONE_MOUNT, sets, mounts, null);
    NodeLayerState.Status again =
        builderAt(T0.plusSeconds(60)).build(ONE_SET_ONE_MOUNT, sets, mounts, first);
    JsonNode firstJson = Serialization.jsonMapper().valueToTree(first);
    JsonNode againJson = Serialization.jsonMapper().valueToTree(again);
    assertThat(againJson).isEqualTo(firstJson);
  }

  /** Each stage of a LayerSet's work, as its wire entry says it. */
  @Test
  void eachStageOfTheWorkBecomesItsEntry() {
    assertThat(NodeStatusBuilder.entry(null).phase).isEqualTo(LayerSetPhase.Pending);
    LayerSetEntry waiting =
        NodeStatusBuilder.entry(
            LayerSetProgress.start(
                "spec",
                new LayerSetProgress.Pending(AgentReason.WaitingForResolvedImage, "waiting")));
    assertThat(waiting.phase).isEqualTo(LayerSetPhase.Pending);
    assertThat(waiting.reason).isEqualTo("WaitingForResolvedImage");

    LayerSetEntry fetching = NodeStatusBuilder.entry(fetching());
    assertThat(fetching.phase).isEqualTo(LayerSetPhase.Fetching);
    assertThat(fetching.fetchedBytes).isEqualTo(10);
    assertThat(fetching.totalBytes).isEqualTo(100);

    LayerSetEntry ready = NodeStatusBuilder.entry(ready());
    assertThat(ready.phase).isEqualTo(LayerSetPhase.Ready);
    assertThat(ready.chainId).isEqualTo(CHAIN.toString());
    assertThat(ready.root).isEqualTo("/state/layers/" + CHAIN.hex() + "/root");
    assertThat(ready.files).isEqualTo(3);
    assertThat(ready.bytes).isEqualTo(42);
    assertThat(ready.reason).isNull();
  }

  /**
   * A failure says when it is tried again, in a text that stays the same while the node waits (so
   * the status is not written again), and says so while the retry fetches; one that will not pass
   * says nothing more. Messages are bounded whatever a server answered.
   */
  @Test
  void aFailureSaysWhenItIsTriedAgainInAFixedText() {
    LayerSetProgress failed =
        fetching().failed(FetchException.Reason.Unreachable, "no origin answered", 5);
    assertThat(NodeStatusBuilder.entry(failed).message)
        .isEqualTo("no origin answered (trying again in 10s)");
    assertThat(NodeStatusBuilder.entry(failed.retrying()).message)
        .isEqualTo("no origin answered (trying again now)");
    assertThat(NodeStatusBuilder.entry(failed.retrying()).reason).isEqualTo("Unreachable");

    LayerSetProgress refused =
        fetching().failed(LayerException.Reason.PathEscape, "x".repeat(5_000), 5);
    LayerSetEntry entry = NodeStatusBuilder.entry(refused);
    assertThat(entry.reason).isEqualTo("PathEscape");
    assertThat(entry.message).hasSize(NodeStatusBuilder.MAX_MESSAGE + 3).endsWith("x...");
  }

  private static final Digest CHAIN = Digest.parse("sha256:" + "ab".repeat(32));

  private static LayerSetProgress fetching() {
    return LayerSetProgress.start("spec", new LayerSetProgress.Pending(null, null))
        .fetching(10, 100L);
  }

  private static LayerSetProgress ready() {
    Materialized made =
        new Materialized(
            CHAIN, Path.of("/state/layers/" + CHAIN.hex() + "/root"), 3, 42, List.of(), false);
    return fetching().materializing().ready(made);
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
