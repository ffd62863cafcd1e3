package io.strata.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.strata.controller.StatusAggregator.NodeReport;
import io.strata.controller.StatusAggregator.Summary;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class StatusAggregatorTest {
  private static final Instant T0 = Instant.parse("2026-11-28T10:00:00Z");
  private static final String CHAIN = "sha256:" + "a".repeat(64);

  @Test
  void everyNodeReadyIsReadyNotProgressingNotDegraded() {
    Summary s =
        at(T0)
            .fold(
                List.of("n1", "n2"),
                Map.of("n1", ready(CHAIN), "n2", ready(CHAIN)),
                "Ready",
                3,
                null);
    assertThat(s.desired()).isEqualTo(2);
    assertThat(s.ready()).isEqualTo(2);
    assertThat(s.chainId()).isEqualTo(CHAIN);
    assertThat(condition(s, "Ready"))
        .satisfies(
            c -> {
              assertThat(c.getStatus()).isEqualTo("True");
              assertThat(c.getReason()).isEqualTo("AllNodesReady");
              assertThat(c.getObservedGeneration()).isEqualTo(3L);
            });
    assertThat(condition(s, "Progressing").getStatus()).isEqualTo("False");
    assertThat(condition(s, "Degraded").getStatus()).isEqualTo("False");
  }

  @Test
  void everyPhaseMixCountsWhereItBelongs() {
    Map<String, NodeReport> reports = new HashMap<>();
    reports.put("ready", ready(CHAIN));
    reports.put("fetching", new NodeReport("Fetching", null, null, 3L, null));
    reports.put("failed", new NodeReport("Failed", "DigestMismatch", "bad", 3L, null));
    reports.put("stale", new NodeReport("Ready", null, null, 2L, CHAIN)); // an older generation
    Summary s =
        at(T0)
            .fold(
                List.of("ready", "fetching", "failed", "stale", "silent"),
                reports,
                "Ready",
                3,
                null);
    assertThat(s.ready()).isEqualTo(1);
    assertThat(s.failed())
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.nodeName).isEqualTo("failed");
              assertThat(f.reason).isEqualTo("DigestMismatch");
            });
    assertThat(condition(s, "Ready").getReason()).isEqualTo("NodesNotReady");
    assertThat(condition(s, "Ready").getMessage()).isEqualTo("1 of 5 nodes ready");
    assertThat(condition(s, "Progressing").getStatus()).isEqualTo("True");
    assertThat(condition(s, "Progressing").getMessage()).startsWith("3 nodes");
    assertThat(condition(s, "Degraded").getReason()).isEqualTo("NodesFailed");
  }

  @Test
  void reportsFromNodesNoLongerSelectedDoNotCount() {
    Summary s =
        at(T0)
            .fold(
                List.of("n1"),
                Map.of("n1", ready(CHAIN), "gone", new NodeReport("Failed", "X", "x", 3L, null)),
                "Ready",
                3,
                null);
    assertThat(s.failed()).isEmpty();
    assertThat(s.ready()).isEqualTo(1);
  }

  @Test
  void failedNodesAreTruncatedAtTwentyAndTheRestCounted() {
    Map<String, NodeReport> reports = new HashMap<>();
    List<String> nodes = IntStream.range(0, 25).mapToObj(i -> String.format("n%02d", i)).toList();
    nodes.forEach(n -> reports.put(n, new NodeReport("Failed", "NoSpace", "full", 1L, null)));
    Summary s = at(T0).fold(nodes, reports, "Ready", 1, null);
    assertThat(s.failed()).hasSize(20);
    assertThat(s.failed().getFirst().nodeName).isEqualTo("n00");
    assertThat(s.moreFailed()).isEqualTo(5);
  }

  @Test
  void transitionTimesMoveOnlyWhenAConditionsStatusChanges() {
    Summary first = at(T0).fold(List.of("n1"), Map.of(), "Ready", 3, null);
    Summary same =
        at(T0.plusSeconds(60)).fold(List.of("n1"), Map.of(), "Ready", 3, first.conditions());
    assertThat(condition(same, "Ready").getLastTransitionTime()).isEqualTo("2026-11-28T10:00:00Z");
    Summary changed =
        at(T0.plusSeconds(120))
            .fold(List.of("n1"), Map.of("n1", ready(CHAIN)), "Ready", 3, same.conditions());
    assertThat(condition(changed, "Ready").getLastTransitionTime())
        .isEqualTo("2026-11-28T10:02:00Z");
    assertThat(condition(changed, "Degraded").getLastTransitionTime())
        .isEqualTo("2026-11-28T10:00:00Z");
  }

  @Test
  void theChainIdIsReportedOnlyWhenReadyNodesAgree() {
    String other = "sha256:" + "b".repeat(64);
    Summary s =
        at(T0)
            .fold(
                List.of("n1", "n2"),
                Map.of("n1", ready(CHAIN), "n2", ready(other)),
                "Ready",
                3,
                null);
    assertThat(s.ready()).isEqualTo(2);
    assertThat(s.chainId()).isNull();
  }

  @Test
  void noMatchingNodesIsNotReady() {
    Summary s = at(T0).fold(List.of(), Map.of(), "Ready", 1, null);
    assertThat(condition(s, "Ready").getReason()).isEqualTo("NoMatchingNodes");
    assertThat(condition(s, "Ready").getStatus()).isEqualTo("False");
  }

  private static NodeReport ready(String chain) {
    return new NodeReport("Ready", null, null, 3L, chain);
  }

  /**
   * kstatus's conditions, as Flux reads them: Reconciling while any node is on its way or trying
   * again; Stalled once every node that reported failed for a reason only a change fixes.
   */
  @Test
  void reconcilingWhileNodesWorkOrRetryStalledWhenEveryReportNeedsAChange() {
    assertThat(kstatus(Map.of("a", fetching(), "b", ready(CHAIN))))
        .as("fetching")
        .containsExactly("True", "False");
    assertThat(kstatus(Map.of("a", failed("Unreachable"), "b", ready(CHAIN))))
        .as("failed, trying again")
        .containsExactly("True", "False");
    assertThat(kstatus(Map.of("a", ready(CHAIN), "b", ready(CHAIN))))
        .as("ready everywhere")
        .containsExactly("False", "False");
    assertThat(kstatus(Map.of("a", failed("PathEscape"), "b", failed("DigestMismatch"))))
        .as("every node refused the layers")
        .containsExactly("False", "True");
    assertThat(kstatus(Map.of("a", failed("PathEscape"))))
        .as("b has not reported: the one report decides")
        .containsExactly("False", "True");
    assertThat(kstatus(Map.of("a", failed("PathEscape"), "b", failed("Unreachable"))))
        .as("one may still pass")
        .containsExactly("True", "False");
    assertThat(kstatus(Map.of("a", failed("PathEscape"), "b", ready(CHAIN))))
        .as("partly failed for good: Degraded, not Stalled")
        .containsExactly("False", "False");
  }

  @Test
  void stalledSaysWhichNodeAndWhy() {
    Summary s = at(T0).fold(List.of("a", "b"), Map.of("b", failed("PathEscape")), "Ready", 3, null);
    Condition stalled = condition(s, "Stalled");
    assertThat(stalled.getReason()).isEqualTo("PathEscape");
    assertThat(stalled.getMessage()).contains("first b: bad");
    assertThat(condition(s, "Reconciling").getReason()).isEqualTo("Settled");
  }

  /** Reconciling and Stalled of a fold over nodes a and b, generation 3. */
  private static List<String> kstatus(Map<String, NodeReport> reports) {
    Summary s = at(T0).fold(List.of("a", "b"), reports, "Ready", 3, null);
    return List.of(condition(s, "Reconciling").getStatus(), condition(s, "Stalled").getStatus());
  }

  private static NodeReport fetching() {
    return new NodeReport("Fetching", null, null, 3L, null);
  }

  private static NodeReport failed(String reason) {
    return new NodeReport("Failed", reason, "bad", 3L, null);
  }

  private static Condition condition(Summary s, String type) {
    return s.conditions().stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow();
  }

  private static StatusAggregator at(Instant now) {
    return new StatusAggregator(Clock.fixed(now, ZoneOffset.UTC), NeedsChange.LAYER_SET);
  }
}
