package io.strata.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.testing.ProjectFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the benchmarks read from the system: peak RSS, and the API server's write counters. */
final class Measures {
  private Measures() {}

  /**
   * Makes {@code process} run its JVM as the chart runs {@code component} ({@code agent} or {@code
   * controller}): the image's collector, the chart's {@code javaOptions} (or the system property
   * {@code strata.javaOptions}) and its environment. Returns the options used.
   */
  static String asTheChartRuns(ProcessBuilder process, String component) throws IOException {
    String options = System.getProperty("strata.javaOptions");
    if (options == null) {
      JsonNode values =
          Serialization.yamlMapper()
              .readTree(ProjectFiles.root().resolve("charts/strata/values.yaml").toFile());
      options = values.path(component).path("javaOptions").asText();
    }
    process.environment().put("JDK_JAVA_OPTIONS", options);
    process.environment().put("MALLOC_ARENA_MAX", "2");
    return options;
  }

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
