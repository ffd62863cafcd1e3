package io.strata.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LabelSelectorsTest {
  private static final Map<String, String> GPU_NODE = Map.of("pool", "gpu", "zone", "a");

  @Test
  void nullAndEmptySelectorsSelectEverything() {
    assertThat(LabelSelectors.matches(null, GPU_NODE)).isTrue();
    assertThat(LabelSelectors.matches(new LabelSelector(), GPU_NODE)).isTrue();
    assertThat(LabelSelectors.matches(new LabelSelector(), null)).isTrue();
  }

  @Test
  void matchLabelsNeedsEveryPair() {
    assertThat(LabelSelectors.matches(labels(Map.of("pool", "gpu")), GPU_NODE)).isTrue();
    assertThat(LabelSelectors.matches(labels(Map.of("pool", "gpu", "zone", "b")), GPU_NODE))
        .isFalse();
    assertThat(LabelSelectors.matches(labels(Map.of("pool", "gpu")), Map.of())).isFalse();
  }

  @Test
  void expressionsFollowKubernetesOperators() {
    assertThat(matches("pool", "In", "gpu", "tpu")).isTrue();
    assertThat(matches("pool", "In", "cpu")).isFalse();
    assertThat(matches("pool", "NotIn", "cpu")).isTrue();
    assertThat(matches("pool", "NotIn", "gpu")).isFalse();
    assertThat(matches("missing", "NotIn", "x")).as("NotIn holds for an absent key").isTrue();
    assertThat(matches("zone", "Exists")).isTrue();
    assertThat(matches("missing", "Exists")).isFalse();
    assertThat(matches("missing", "DoesNotExist")).isTrue();
    assertThat(matches("zone", "DoesNotExist")).isFalse();
  }

  @Test
  void anUnknownOperatorSelectsNothing() {
    assertThat(matches("pool", "Gt", "1")).isFalse();
  }

  private static LabelSelector labels(Map<String, String> labels) {
    return new LabelSelectorBuilder().withMatchLabels(labels).build();
  }

  private static boolean matches(String key, String operator, String... values) {
    LabelSelector selector =
        new LabelSelectorBuilder()
            .addNewMatchExpression()
            .withKey(key)
            .withOperator(operator)
            .withValues(List.of(values))
            .endMatchExpression()
            .build();
    return LabelSelectors.matches(selector, GPU_NODE);
  }
}
