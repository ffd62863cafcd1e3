package io.strata.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.controller.StatusAggregator.NodeReport;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What {@code kubectl get lset} shows of the nodes' progress. */
class ProgressTest {
  private static final long MIB = 1 << 20;

  @Test
  void readyFetchingWithBytesMaterializingAndFailedAreCountedForThisGeneration() {
    Map<String, NodeReport> reports =
        Map.of(
            "a", report("Ready", 2, null, null),
            "b", report("Fetching", 2, 100 * MIB, 300 * MIB),
            "c", report("Fetching", 2, 50 * MIB, 300 * MIB),
            "d", report("Materializing", 2, null, null),
            "e", report("Failed", 2, null, null),
            "f", report("Fetching", 1, 7 * MIB, 9 * MIB)); // an older generation: not counted
    Progress progress = Progress.of(List.of("a", "b", "c", "d", "e", "f", "g"), reports, 2);
    assertThat(progress.text())
        .isEqualTo("1/7 ready, 2 fetching (150.0 MiB of 600.0 MiB), 1 materializing, 1 failed");
    assertThat(progress.fetchedBytes()).isEqualTo(150 * MIB);
    assertThat(progress.totalBytes()).isEqualTo(600 * MIB);
  }

  @Test
  void aTotalOneNodeDoesNotKnowYetLeavesTheTotalOut() {
    Progress progress =
        Progress.of(
            List.of("a", "b"),
            Map.of(
                "a", report("Fetching", 1, 3 * MIB, 10 * MIB),
                "b", report("Fetching", 1, 1024L, null)),
            1);
    assertThat(progress.totalBytes()).isNull();
    assertThat(progress.text()).isEqualTo("0/2 ready, 2 fetching (3.0 MiB)");
  }

  @Test
  void allReadyAndNoNodesReadPlainly() {
    assertThat(Progress.of(List.of("a"), Map.of("a", report("Ready", 1, null, null)), 1).text())
        .isEqualTo("1/1 ready");
    assertThat(Progress.of(List.of(), Map.of(), 1).text()).isEqualTo("no matching nodes");
    assertThat(Progress.of(List.of("a"), Map.of(), 1).totalBytes()).as("none fetching").isNull();
  }

  @Test
  void bytesReadInBinaryUnits() {
    assertThat(Progress.bytes(0)).isEqualTo("0 B");
    assertThat(Progress.bytes(1023)).isEqualTo("1023 B");
    assertThat(Progress.bytes(1536)).isEqualTo("1.5 KiB");
    assertThat(Progress.bytes(5L << 30)).isEqualTo("5.0 GiB");
  }

  private static NodeReport report(String phase, long generation, Long fetched, Long total) {
    return new NodeReport(phase, null, null, generation, null, 0, fetched, total);
  }
}
