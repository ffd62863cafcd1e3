package io.strata.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Real tools the tests drive (umoci, GNU tar, zstd, ...), and how they are required. */
public final class Tools {
  private Tools() {}

  /**
   * Skips the calling test when {@code what} is missing, saying how to get it; under CI and {@code
   * hack/test.sh} ({@link #strict()}), which install everything, a missing tool fails.
   */
  public static void require(boolean present, String what) {
    if (!present && strict()) {
      throw new IllegalStateException(what + " is missing; hack/test.sh installs it");
    }
    assumeTrue(present, what + " is missing (hack/test.sh installs it)");
  }

  /** Like {@link #require}, for root: {@code why} says what needs it. */
  public static void requireRoot(String why) {
    boolean root = RootMounts.isRoot();
    if (!root && strict()) {
      throw new IllegalStateException("not root, and " + why + ": run hack/test.sh as root");
    }
    assumeTrue(root, why + " (run as root)");
  }

  /**
   * True where nothing a test needs may be missing: under CI ({@code CI} set) and under {@code
   * hack/test.sh} ({@code STRATA_REQUIRE_ALL=1}).
   */
  public static boolean strict() {
    return System.getenv("CI") != null || "1".equals(System.getenv("STRATA_REQUIRE_ALL"));
  }

  /** Where the test scripts cache what they build ({@code STRATA_TEST_CACHE}, ~/.cache/strata). */
  public static Path testCache() {
    String cache = System.getenv("STRATA_TEST_CACHE");
    return cache != null
        ? Path.of(cache)
        : Path.of(System.getProperty("user.home"), ".cache/strata");
  }

  public static void requireCommand(String command) {
    boolean found =
        List.of(System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")).stream()
            .anyMatch(dir -> Files.isExecutable(Path.of(dir, command)));
    require(found, "the command " + command);
  }

  /** The debootstrap root filesystem {@code hack/build-test-rootfs.sh} caches. */
  public static Path testRootfsTar() {
    Path tar = testCache().resolve("rootfs-bookworm-minbase.tar");
    require(Files.isRegularFile(tar), "the test root filesystem " + tar);
    return tar;
  }

  /** How long {@link #run} lets a command take before it kills it and fails. */
  private static final Duration RUN_TIMEOUT = Duration.ofMinutes(10);

  /**
   * Runs a command (in {@code dir}), failing with its output when it fails or outlives {@link
   * #RUN_TIMEOUT}.
   */
  public static String run(Path dir, String... command) throws IOException, InterruptedException {
    Path output = Files.createTempFile("strata-tool-", ".out");
    try {
      Process process =
          new ProcessBuilder(command)
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .start();
      boolean exited = process.waitFor(RUN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      if (!exited) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor();
      }
      String printed = Files.readString(output, StandardCharsets.UTF_8);
      if (!exited || process.exitValue() != 0) {
        throw new IOException(
            Arrays.toString(command)
                + (exited ? " exited " + process.exitValue() : " timed out after " + RUN_TIMEOUT)
                + ":\n"
                + printed);
      }
      return printed;
    } finally {
      Files.deleteIfExists(output);
    }
  }

  /** Runs a shell script with {@code set -eu} in {@code dir}. */
  public static String sh(Path dir, String script) throws IOException, InterruptedException {
    return run(dir, "bash", "-c", "set -euo pipefail\n" + script);
  }
}
