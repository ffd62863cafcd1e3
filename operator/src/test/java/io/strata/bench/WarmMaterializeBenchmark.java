package io.strata.bench;

import io.strata.layerstore.LayerStore;
import io.strata.layerstore.LayerStore.LayerSource;
import io.strata.layout.StoreLayout;
import io.strata.layout.Trees;
import io.strata.oci.Digest;
import io.strata.sys.Syscalls;
import io.strata.tarapply.Limits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Materializing one layer as the agent does it, in a JVM that has already materialized it twice
 * (its code compiled), against {@code tar -xf LAYER && sync} on the same filesystem, interleaved,
 * the page cache dropped before each. Separates what the engine costs from what a fresh JVM costs.
 * GNU tar finds a compressed layer's format itself. Prints tab-separated rows {@code name seconds
 * rss-kib} for {@code hack/bench-layers.sh}, each name ending in SUFFIX if given. Usage: LAYER
 * SCRATCH ROUNDS [SUFFIX] (run as root: it drops the page cache).
 */
public final class WarmMaterializeBenchmark {
  private WarmMaterializeBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path layer = Path.of(args[0]);
    Path scratch = Path.of(args[1]);
    int rounds = Integer.parseInt(args[2]);
    String suffix = args.length > 3 ? args[3] : "";
    List<LayerSource> chain = List.of(new LayerSource(layer, Digest.ofFile(layer), null));
    for (int i = 0; i < 2; i++) { // warm up, then leave the filesystem as the rounds find it
      Path state = scratch.resolve("warm-" + i);
      store(state).materialize(chain);
      Trees.delete(state);
    }
    // Whichever runs second finds the disk still busy with, or rested from, the other's writes,
    // so the order alternates from round to round.
    for (int i = 0; i < rounds; i++) {
      double strata = 0;
      double tar = 0;
      for (boolean strataNow :
          i % 2 == 0 ? new boolean[] {true, false} : new boolean[] {false, true}) {
        dropCaches();
        long start = System.nanoTime();
        if (strataNow) {
          store(scratch.resolve("strata-" + i)).materialize(chain); // syncs before it publishes
          strata = (System.nanoTime() - start) / 1e9;
        } else {
          Path tarOut = Files.createDirectories(scratch.resolve("tar-" + i));
          run("tar -xf '" + layer + "' -C '" + tarOut + "' && sync");
          tar = (System.nanoTime() - start) / 1e9;
        }
      }
      System.out.printf(
          "strata-warm%s\t%.4f\t0%ntar-beside-warm%s\t%.4f\t0%n", suffix, strata, suffix, tar);
    }
  }

  private static LayerStore store(Path state) {
    return new LayerStore(new StoreLayout(state), Syscalls.get(), Limits.DEFAULT);
  }

  private static void dropCaches() throws Exception {
    run("sync && echo 3 > /proc/sys/vm/drop_caches");
  }

  private static void run(String script) throws Exception {
    Process p = new ProcessBuilder("bash", "-c", script).inheritIO().start();
    if (p.waitFor() != 0) {
      throw new IllegalStateException("failed: " + script);
    }
  }
}
