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

  private static Condition condition(Summary s, String type) {
    return s.conditions().stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow();
  }

  private static StatusAggregator at(Instant now) {
    return new StatusAggregator(Clock.fixed(now, ZoneOffset.UTC));
  }
}
