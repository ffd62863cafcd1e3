package io.strata.layerstore;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.layout.Trees;
import io.strata.tarapply.Limits;
import io.strata.testing.ProjectFiles;
import io.strata.testing.Tools;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipParameters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A layer at the entry limit ({@link Limits#DEFAULT}: a million entries) is applied by {@code
 * strata materialize} running with the agent's own JVM options from the chart, its 64 MiB heap
 * included: what the writer keeps per entry fits that heap at the limit.
 */
class LayerAtTheLimitsTest {
  private static final int DIRS = 1_000;
  private static final int FILES_PER_DIR = 999;

  @TempDir Path tmp;

  @AfterEach
  void cleanUp() throws IOException {
    Trees.deleteUnmounted(tmp.resolve("state")); // a million files: faster than JUnit's walk
  }

  @Test
  @Timeout(value = 15, unit = TimeUnit.MINUTES)
  void aLayerOfAMillionEntriesFitsTheAgentsHeap() throws Exception {
    Tools.requireRoot("owners need root");
    Path layer = millionEntries(tmp.resolve("million.tar.gz"));

    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.add("--enable-native-access=ALL-UNNAMED");
    command.addAll(List.of(chartJavaOptions().split("\\s+")));
    command.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            "io.strata.cli.Main",
            "materialize",
            "--json",
            "--state-dir",
            tmp.resolve("state").toString(),
            layer.toString()));
    Process process =
        new ProcessBuilder(command)
            .redirectError(tmp.resolve("stderr").toFile())
            .redirectOutput(tmp.resolve("stdout").toFile())
            .start();
    assertThat(process.waitFor(12, TimeUnit.MINUTES)).as("finished").isTrue();
    assertThat(process.exitValue())
        .as("exit status; stderr: %s", Files.readString(tmp.resolve("stderr")))
        .isZero();
    JsonNode out = new ObjectMapper().readTree(tmp.resolve("stdout").toFile());
    assertThat(out.path("files").asLong()).isEqualTo((long) DIRS * FILES_PER_DIR);
  }

  /** The agent's {@code javaOptions} as the chart gives them. */
  private static String chartJavaOptions() throws IOException {
    JsonNode values =
        Serialization.yamlMapper()
            .readTree(ProjectFiles.root().resolve("charts/strata/values.yaml").toFile());
    String options = values.path("agent").path("javaOptions").asText();
    assertThat(options).contains("-Xmx");
    return options;
  }

  /** 1,000 directories of 999 files each, a million entries, written as they stream out. */
  private static Path millionEntries(Path file) throws IOException {
    GzipParameters fast = new GzipParameters();
    fast.setCompressionLevel(1);
    try (OutputStream out =
            new GzipCompressorOutputStream(
                new BufferedOutputStream(Files.newOutputStream(file), 1 << 16), fast);
        TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
      for (int d = 0; d < DIRS; d++) {
        String dir = String.format("directory-%04d/", d);
        TarArchiveEntry entry = new TarArchiveEntry(dir);
        entry.setMode(040755);
        tar.putArchiveEntry(entry);
        tar.closeArchiveEntry();
        for (int f = 0; f < FILES_PER_DIR; f++) {
          TarArchiveEntry file1 =
              new TarArchiveEntry(
                  String.format("%sa-file-with-a-name-of-some-length-%06d", dir, f));
          file1.setMode(0100644); // empty: a million inodes, no data blocks
          tar.putArchiveEntry(file1);
          tar.closeArchiveEntry();
        }
      }
    }
    return file;
  }
}
