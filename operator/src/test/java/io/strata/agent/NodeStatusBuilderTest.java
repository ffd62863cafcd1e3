package io.strata.agent;

import static io.strata.agent.SelectionTest.layerSet;
import static io.strata.agent.SelectionTest.mount;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class NodeStatusBuilderTest {
  private static final Instant T0 = Instant.parse("2026-11-28T10:00:00Z");

  @Test
  void newEntriesStartPendingAtTheCurrentTime() {
    NodeLayerState.Status status =
        builderAt(T0)
            .build(
                new Selection(List.of(layerSet("a", null)), List.of(mount("m", "a", null))), null);
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
        .satisfies(e -> assertThat(e.phase).isEqualTo(NodeLayerState.MountPhase.Pending));
    assertThat(status.summary.layerSets).isEqualTo(1);
    assertThat(status.summary.overlayMounts).isEqualTo(1);
    assertThat(status.summary.ready).isEqualTo("0/2");
  }

  @Test
  void keptEntriesKeepTheirTransitionTimeAndDroppedOnesGo() {
    Selection both = new Selection(List.of(layerSet("a", null), layerSet("b", null)), List.of());
    NodeLayerState.Status first = builderAt(T0).build(both, null);

    Selection onlyB = new Selection(List.of(layerSet("b", null)), List.of());
    NodeLayerState.Status later = builderAt(T0.plusSeconds(600)).build(onlyB, first);

    assertThat(later.layerSets)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.name).isEqualTo("b");
              assertThat(e.lastTransitionTime).isEqualTo("2026-11-28T10:00:00Z");
            });
  }

  @Test
  void anUnchangedNodeBuildsAnEqualStatus() {
    Selection selection = new Selection(List.of(layerSet("a", null)), List.of());
    NodeLayerState.Status first = builderAt(T0).build(selection, null);
    NodeLayerState.Status again = builderAt(T0.plusSeconds(60)).build(selection, first);
    var json = io.fabric8.kubernetes.client.utils.Serialization.jsonMapper();
    JsonNode againJson = json.valueToTree(again);
    JsonNode firstJson = json.valueToTree(first);
    assertThat(againJson).isEqualTo(firstJson);
  }

  private static NodeStatusBuilder builderAt(Instant now) {
    return new NodeStatusBuilder(Clock.fixed(now, ZoneOffset.UTC));
  }
}
