package io.strata.bench;

import io.strata.layout.NodeLayout;
import io.strata.overlay.MountRequest;
import io.strata.overlay.MountTable;
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
    int others = args.length > 1 ? Integer.parseInt(args[1]) : 0;
    Path tmp = Files.createTempDirectory("strata-bench-");
    RootMounts node = RootMounts.prepare(tmp);
    try {
      Files.writeString(node.lower.resolve("f"), "x");
      Overlays overlays =
          new Overlays(new NodeLayout(node.stateDir, node.mountBase), Syscalls.get());
      for (int i = 0; i < others; i++) {
        overlays.mount(MountRequest.disk("other-" + i, "other-" + i, node.lower));
      }
      MountRequest request = MountRequest.disk("bench", "bench", node.lower);
      MountedOverlay first = overlays.mount(request); // warm up, and make the upper once
      overlays.unmount("bench", false);
      Path target = first.target();
      String options = first.spec().data();
      Syscalls sys = Syscalls.get();
      for (int i = 0; i < 20; i++) {
        syscalls(sys, first);
        strata(overlays, request);
        inAPass(overlays, request, new ArrayList<>());
        util(target, options);
      }
      List<Long> strata = new ArrayList<>();
      List<Long> pass = new ArrayList<>();
      List<Long> reads = new ArrayList<>();
      List<Long> util = new ArrayList<>();
      List<Long> syscalls = new ArrayList<>();
      for (int i = 0; i < rounds; i++) {
        syscalls.add(syscalls(sys, first));
        strata.add(strata(overlays, request));
        pass.add(inAPass(overlays, request, reads));
        util.add(util(target, options));
      }
      report(rounds, others, syscalls, strata, pass, reads, util);
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

  /**
   * The pair as the agent makes it: on the table its pass read once (the read is timed apart, in
   * {@code reads}: a pass pays it once for all its mounts).
   */
  private static long inAPass(Overlays overlays, MountRequest request, List<Long> reads)
      throws Exception {
    long start = System.nanoTime();
    MountTable table = overlays.readMountTable();
    long read = System.nanoTime();
    overlays.mount(request, table);
    overlays.unmount("bench", false, table);
    long end = System.nanoTime();
    reads.add(read - start);
    return end - read;
  }

  /** mount(2) and umount2(2) alone, on the same target and data: the floor. */
  private static long syscalls(Syscalls sys, MountedOverlay overlay) throws Exception {
    String target = overlay.target().toString();
    Files.createDirectories(overlay.target());
    long start = System.nanoTime();
    sys.mount(
        overlay.spec().source(),
        target,
        overlay.spec().fsType(),
        overlay.spec().flags(),
        overlay.spec().data());
    sys.unmountNoFollow(target);
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

  private static void report(
      int rounds,
      int others,
      List<Long> syscalls,
      List<Long> strata,
      List<Long> pass,
      List<Long> reads,
      List<Long> util) {
    double utilMedian = percentile(util, 50);
    System.out.printf(
        "mount+unmount, %d interleaved rounds, %d other Strata mounts (ms)%n", rounds, others);
    System.out.printf("%-40s %8s %8s%n", "", "median", "p90");
    row("mount(2) + umount2(2) alone", syscalls);
    row("strata, reading the table for each", strata);
    row("strata, in a pass (its one read apart)", pass);
    row("  the pass's one read of the table", reads);
    row("mount -t overlay + umount", util);
    System.out.printf(
        "ratio strata / util-linux (median): %.3f reading, %.3f in a pass%n",
        percentile(strata, 50) / utilMedian, percentile(pass, 50) / utilMedian);
  }

  private static void row(String what, List<Long> nanos) {
    System.out.printf("%-40s %8.3f %8.3f%n", what, percentile(nanos, 50), percentile(nanos, 90));
  }

  private static double percentile(List<Long> nanos, int p) {
    List<Long> sorted = new ArrayList<>(nanos);
    Collections.sort(sorted);
    return sorted.get(Math.min(sorted.size() - 1, sorted.size() * p / 100)) / 1e6;
  }
}
