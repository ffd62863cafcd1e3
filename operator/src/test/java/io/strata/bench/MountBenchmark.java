package io.strata.bench;

import io.strata.layout.NodeLayout;
import io.strata.overlay.MountRequest;
import io.strata.overlay.MountedOverlay;
import io.strata.overlay.Overlays;
import io.strata.sys.Syscalls;
import io.strata.testing.RootMounts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Mount plus unmount latency: Strata's engine in-process against util-linux {@code mount -t
 * overlay} and {@code umount} on the same directories, interleaved in one run. A benchmark, not a
 * test: run it with {@code hack/bench-mount.sh} as root.
 */
public final class MountBenchmark {
  private MountBenchmark() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    Path tmp = Files.createTempDirectory("strata-bench-");
    RootMounts node = RootMounts.prepare(tmp);
    try {
      Files.writeString(node.lower.resolve("f"), "x");
      Overlays overlays =
          new Overlays(new NodeLayout(node.stateDir, node.mountBase), Syscalls.get());
      MountRequest request = MountRequest.disk("bench", "bench", node.lower);
      MountedOverlay first = overlays.mount(request); // warm up, and make the upper once
      overlays.unmount("bench", false);
      Path target = first.target();
      String options = first.spec().data();
      for (int i = 0; i < 20; i++) {
        strata(overlays, request);
        util(target, options);
      }
      List<Long> strata = new ArrayList<>();
      List<Long> util = new ArrayList<>();
      for (int i = 0; i < rounds; i++) {
        strata.add(strata(overlays, request));
        util.add(util(target, options));
      }
      report(rounds, strata, util);
    } finally {
      node.cleanUp();
    }
  }

  private static long strata(Overlays overlays, MountRequest request) throws Exception {
    long start = System.nanoTime();
    overlays.mount(request);
    overlays.unmount("bench", false);
    return System.nanoTime() - start;
  }

  private static long util(Path target, String options) throws Exception {
    long start = System.nanoTime();
    Files.createDirectories(target);
    run(
        "mount",
        "-t",
        "overlay",
        "strata:bench",
        "-o",
        options + ",nosuid,nodev",
        target.toString());
    run("umount", target.toString());
    return System.nanoTime() - start;
  }

  private static void run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).inheritIO().start();
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", command) + " exited " + p.exitValue());
    }
  }

  private static void report(int rounds, List<Long> strata, List<Long> util) {
    double strataMedian = percentile(strata, 50);
    double utilMedian = percentile(util, 50);
    System.out.printf("mount+unmount, %d interleaved rounds (ms)%n", rounds);
    System.out.printf("%-28s %8s %8s%n", "", "median", "p90");
    System.out.printf(
        "%-28s %8.3f %8.3f%n", "strata (in-process)", strataMedian, percentile(strata, 90));
    System.out.printf(
        "%-28s %8.3f %8.3f%n", "mount -t overlay + umount", utilMedian, percentile(util, 90));
    System.out.printf("ratio strata / util-linux (median): %.3f%n", strataMedian / utilMedian);
  }

  private static double percentile(List<Long> nanos, int p) {
    List<Long> sorted = new ArrayList<>(nanos);
    Collections.sort(sorted);
    return sorted.get(Math.min(sorted.size() - 1, sorted.size() * p / 100)) / 1e6;
  }
}
