package io.strata.layerstore;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.strata.layerstore.LayerStore.LayerSource;
import io.strata.layout.StoreLayout;
import io.strata.layout.Trees;
import io.strata.sys.Syscalls;
import io.strata.tarapply.LayerException;
import io.strata.tarapply.Limits;
import io.strata.testing.Canaries;
import io.strata.testing.RootMounts;
import io.strata.testing.TarBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes the layer reader and writer with Jazzer: whatever the bytes (plain tar, gzip or zstd, as
 * the reader sniffs them), applying them on top of a committed base either commits a root or fails
 * with a {@link LayerException} naming why; never another exception, and never a change outside the
 * root being built: canaries outside the state dir and the committed base stay as they were, and
 * staging is empty after each.
 *
 * <p>The seeds are committed in {@code LayerFuzzTestInputs/}: tars GNU tar made (plain, PAX, GNU
 * long names, sparse in both formats), two framed in gzip and zstd, and two written with Python's
 * tarfile that aim at the root's edges (a parent swapped for a symlink under deferred work, names
 * and links that climb). A test run applies each of them; {@code hack/fuzz.sh} fuzzes from them,
 * and whatever fails lands there too, as a regression input.
 */
class LayerFuzzTest {
  private static Path tmp;
  private static Canaries canaries;
  private static LayerStore store;
  private static Path base;

  @BeforeAll
  static void setUp() throws Exception {
    assertThat(RootMounts.isRoot()).as("owners and devices need root (CI runs as root)").isTrue();
    tmp = Files.createTempDirectory("strata-layer-fuzz");
    canaries = new Canaries();
    canaries.plant(tmp.resolve("canary"));
    store = new LayerStore(new StoreLayout(tmp.resolve("state")), Syscalls.get(), Limits.DEFAULT);
    base =
        new TarBuilder()
            .dir("etc")
            .file("etc/hostname", "base")
            .dir("d/sub")
            .file("d/sub/kept", "lower")
            .symlink("l", "d")
            .write(tmp.resolve("base.tar"));
    canaries.watchCommittedRoot(
        store.materialize(List.of(new LayerSource(base, null, null))).root());
  }

  @AfterAll
  static void tearDown() throws IOException {
    if (tmp != null) {
      Trees.deleteUnmounted(tmp);
    }
  }

  @FuzzTest(maxDuration = "30s")
  void anyLayerIsAppliedOrRefusedAndNothingOutsideChanges(byte[] layer) throws Exception {
    Path file = Files.write(tmp.resolve("fuzzed"), layer);
    try {
      Path root =
          store
              .materialize(
                  List.of(new LayerSource(base, null, null), new LayerSource(file, null, null)))
              .root();
      assertThat(root).isDirectory();
    } catch (LayerException e) {
      assertThat(e.reason()).as(e.getMessage()).isNotNull();
    }
    canaries.assertUntouched();
    try (Stream<Path> left = Files.list(tmp.resolve("state/staging"))) {
      assertThat(left.filter(p -> !p.toString().endsWith(".lock"))).as("staging").isEmpty();
    }
  }
}
