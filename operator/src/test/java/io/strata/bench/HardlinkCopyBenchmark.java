package io.strata.bench;

import io.strata.layerstore.TreeLinker;
import io.strata.layout.Trees;
import io.strata.sys.Syscalls;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The hardlink copy of a committed root, warm and in-process ({@link TreeLinker}), against {@code
 * cp -al} on the same root, interleaved. Prints tab-separated rows {@code name seconds rss-kib} for
 * {@code hack/bench-layers.sh}. Usage: ROOT SCRATCH ROUNDS
 */
public final class HardlinkCopyBenchmark {
  private HardlinkCopyBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path root = Path.of(args[0]);
    Path scratch = Path.of(args[1]);
    int rounds = Integer.parseInt(args[2]);
    Files.createDirectories(scratch);
    for (int i = 0; i < 3; i++) { // warm up
      Path out = scratch.resolve("warm-" + i);
      new TreeLinker(Syscalls.get()).copy(root, out);
      Trees.delete(out);
    }
    for (int i = 0; i < rounds; i++) {
      Path ours = scratch.resolve("strata-" + i);
      long start = System.nanoTime();
      new TreeLinker(Syscalls.get()).copy(root, ours);
      double strata = (System.nanoTime() - start) / 1e9;
      Path theirs = scratch.resolve("cp-" + i);
      start = System.nanoTime();
      Process cp =
          new ProcessBuilder("cp", "-al", root.toString(), theirs.toString()).inheritIO().start();
      if (cp.waitFor() != 0) {
        throw new IllegalStateException("cp -al failed");
      }
      double cpal = (System.nanoTime() - start) / 1e9;
      System.out.printf("strata-links\t%.4f\t0%ncp-al\t%.4f\t0%n", strata, cpal);
      Trees.delete(ours);
      Trees.delete(theirs);
    }
  }
}
