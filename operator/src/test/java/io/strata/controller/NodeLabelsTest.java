package io.strata.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.strata.controller.NodeLabels.Desired;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The label patch each Node gets, without an API server: NodeLabelsIT sends them for real. */
class NodeLabelsTest {
  private static final String TOOLS = "layerset.strata.io/tools";
  private static final String ENV = "overlaymount.strata.io/env";

  private static final Map<String, Desired> WANTED = new LinkedHashMap<>();

  static {
    WANTED.put(TOOLS, new Desired("ready", Set.of("n1", "n2")));
    WANTED.put(ENV, new Desired("mounted", Set.of("n1")));
  }

  @Test
  void aNodeThatShouldCarryBothLabelsGetsBothInOnePatch() {
    assertThat(NodeLabels.change(node("n1", Map.of("pool", "gpu")), WANTED))
        .containsExactly(Map.entry(TOOLS, "ready"), Map.entry(ENV, "mounted"));
  }

  @Test
  void aNodeThatAlreadyCarriesWhatItShouldGetsNoPatch() {
    assertThat(NodeLabels.change(node("n1", Map.of(TOOLS, "ready", ENV, "mounted")), WANTED))
        .isEmpty();
    assertThat(NodeLabels.change(node("n3", Map.of("pool", "cpu")), WANTED)).isEmpty();
  }

  @Test
  void aLabelThatIsNoLongerTrueIsRemovedAndOtherLabelsAreNeverTouched() {
    Map<String, String> change =
        NodeLabels.change(
            node("n2", Map.of(TOOLS, "ready", ENV, "mounted", "pool", "gpu")), WANTED);
    Map<String, String> expected = new HashMap<>();
    expected.put(ENV, null); // a merge patch's null removes the label
    assertThat(change).isEqualTo(expected);
  }

  @Test
  void aWrongValueIsSetRight() {
    assertThat(NodeLabels.change(node("n2", Map.of(TOOLS, "stale")), WANTED))
        .containsExactly(Map.entry(TOOLS, "ready"));
  }

  @Test
  void aNodeWithoutLabelsAtAllIsLabelled() {
    Node bare = new NodeBuilder().withNewMetadata().withName("n2").endMetadata().build();
    assertThat(NodeLabels.change(bare, WANTED)).containsExactly(Map.entry(TOOLS, "ready"));
  }

  private static Node node(String name, Map<String, String> labels) {
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels(labels)
        .endMetadata()
        .build();
  }
}
