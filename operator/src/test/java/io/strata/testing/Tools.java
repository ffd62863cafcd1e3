package io.strata.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** Real tools the tests drive (umoci, GNU tar, zstd, ...), and how they are required. */
public final class Tools {
  private Tools() {}

  /**
   * Skips the calling test when {@code what} is missing, saying how to get it; under CI ({@code
   * CI=true}), where {@code hack/test.sh} installs everything, a missing tool fails.
   */
  public static void require(boolean present, String what) {
    if (!present && System.getenv("CI") != null) {
      throw new IllegalStateException(what + " is missing; hack/test.sh installs it");
    }
    assumeTrue(present, what + " is missing (hack/test.sh installs it)");
  }

  public static void requireCommand(String command) {
    boolean found =
        List.of(System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")).stream()
            .anyMatch(dir -> Files.isExecutable(Path.of(dir, command)));
    require(found, "the command " + command);
  }

  /** The debootstrap root filesystem {@code hack/build-test-rootfs.sh} caches. */
  public static Path testRootfsTar() {
    String cache = System.getenv("STRATA_TEST_CACHE");
    Path dir =
        cache != null ? Path.of(cache) : Path.of(System.getProperty("user.home"), ".cache/strata");
    Path tar = dir.resolve("rootfs-bookworm-minbase.tar");
    require(Files.isRegularFile(tar), "the test root filesystem " + tar);
    return tar;
  }

  /** Runs a command (in {@code dir}), failing with its output when it fails. */
  public static String run(Path dir, String... command) throws IOException, InterruptedException {
    Process process =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (process.waitFor() != 0) {
      throw new IOException(
          Arrays.toString(command) + " exited " + process.exitValue() + ":\n" + output);
    }
    return output;
  }

  /** Runs a shell script with {@code set -eu} in {@code dir}. */
  public static String sh(Path dir, String script) throws IOException, InterruptedException {
    return run(dir, "bash", "-c", "set -euo pipefail\n" + script);
  }
}
