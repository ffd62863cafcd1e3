package io.strata.bench;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the benchmarks read from the system: peak RSS, and the API server's write counters. */
final class Measures {
  private Measures() {}

  /** The peak resident set of process {@code pid} so far (VmHWM), in KiB. */
  static long peakRssKiB(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  /**
   * Writes (PATCH, APPLY, PUT) the API server has served for {@code resources}' status subresource
   * so far, from its own {@code apiserver_request_total} counters.
   */
  static long statusWrites(KubernetesClient client, String resources) {
    Pattern counter =
        Pattern.compile(
            "apiserver_request_total\\{[^}]*resource=\"(?:"
                + resources
                + ")\"[^}]*subresource=\"status\"[^}]*verb=\"(?:PATCH|APPLY|PUT)\"[^}]*\\} (\\d+)");
    String metrics = client.raw(client.getMasterUrl() + "metrics");
    long total = 0;
    Matcher m = counter.matcher(metrics == null ? "" : metrics);
    while (m.find()) {
      total += Long.parseLong(m.group(1));
    }
    return total;
  }
}
