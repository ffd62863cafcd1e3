package io.strata.controller;

import io.strata.controller.StatusAggregator.NodeReport;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How far a LayerSet's selected nodes are, for its status and {@code kubectl get lset}: how many
 * are ready, fetching (with the bytes they have and need, summed), materializing and failed, for
 * this generation.
 *
 * @param totalBytes null while some fetching node does not know its total yet
 */
record Progress(
    int desired,
    int ready,
    int fetching,
    int materializing,
    int failed,
    long fetchedBytes,
    Long totalBytes) {

  static Progress of(List<String> desired, Map<String, NodeReport> reports, long generation) {
    int ready = 0;
    int fetching = 0;
    int materializing = 0;
    int failed = 0;
    long fetched = 0;
    Long total = 0L;
    for (String node : desired) {
      NodeReport report = reports.get(node);
      if (report == null || !Objects.equals(report.observedGeneration(), generation)) {
        continue;
      }
      switch (report.phase()) {
        case "Ready" -> ready++;
        case "Failed" -> failed++;
        case "Materializing" -> materializing++;
        case "Fetching" -> {
          fetching++;
          fetched += report.fetchedBytes() == null ? 0 : report.fetchedBytes();
          total = total == null || report.totalBytes() == null ? null : total + report.totalBytes();
        }
        default -> {}
      }
    }
    return new Progress(
        desired.size(),
        ready,
        fetching,
        materializing,
        failed,
        fetched,
        fetching > 0 ? total : null);
  }

  /** {@code 2/5 ready, 2 fetching (120.0 MiB of 300.0 MiB), 1 materializing, 1 failed}. */
  String text() {
    if (desired == 0) {
      return "no matching nodes";
    }
    StringBuilder text = new StringBuilder().append(ready).append('/').append(desired);
    text.append(" ready");
    if (fetching > 0) {
      text.append(", ").append(fetching).append(" fetching (").append(bytes(fetchedBytes));
      if (totalBytes != null) {
        text.append(" of ").append(bytes(totalBytes));
      }
      text.append(')');
    }
    if (materializing > 0) {
      text.append(", ").append(materializing).append(" materializing");
    }
    if (failed > 0) {
      text.append(", ").append(failed).append(" failed");
    }
    return text.toString();
  }

  /** Binary units with one decimal: {@code 512 B}, {@code 1.5 KiB}, {@code 120.0 MiB}. */
  static String bytes(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    double value = bytes;
    int unit = -1;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return String.format(java.util.Locale.ROOT, "%.1f %s", value, units[unit]);
  }
}
