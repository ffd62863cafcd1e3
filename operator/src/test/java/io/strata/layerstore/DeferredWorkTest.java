package io.strata.layerstore;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.layerstore.LayerStore.LayerSource;
import io.strata.layout.StoreLayout;
import io.strata.sys.Syscalls;
import io.strata.tarapply.Limits;
import io.strata.testing.Canaries;
import io.strata.testing.TarBuilder;
import io.strata.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The writer defers two things to the end of a layer: pruning opaque directories and setting
 * directory times. A later entry of the same layer can replace a parent of such a directory with a
 * symlink; the deferred work must then neither follow it out of the root nor into the committed
 * parent. Each case makes directory {@code p/<dir>} (opaque, or with a time to set), then replaces
 * {@code p} with a symlink to where {@code <dir>} exists outside the root being built. The layer
 * builds, {@code p} is that symlink, and nothing outside the root changed: not the canaries outside
 * the state dir (bytes, modes, owners, links, xattrs, times), not the parent root's inodes.
 */
class DeferredWorkTest {
  @TempDir Path tmp;
  private final Canaries canaries = new Canaries();
  private LayerStore store;
  private Path base;
  private Path baseRoot;
  private Path canary;

  @BeforeEach
  void setUp() throws Exception {
    Tools.requireRoot("owners and xattrs need root");
    canary = canaries.plant(tmp.resolve("canary"));
    Path state = tmp.resolve("state");
    store = new LayerStore(new StoreLayout(state), Syscalls.get(), Limits.DEFAULT);
    base =
        new TarBuilder()
            .dir("etc")
            .file("etc/hostname", "base")
            .file("bin/tool", "tool")
            .write(tmp.resolve("base.tar"));
    baseRoot = store.materialize(List.of(new LayerSource(base, null, null))).root();
    canaries.watchCommittedRoot(baseRoot);
  }

  /** Where {@code p} points: a place outside the root that holds {@code dir}. */
  interface Target {
    /** Adds the entries that make {@code p} point there, returns the symlink's target. */
    String swap(TarBuilder layer, String canary, String baseRoot);
  }

  /** The deferred work a case sets up on {@code p/<dir>} before the swap. */
  interface Deferred {
    void setUp(TarBuilder layer, String dir);
  }

  static Stream<Arguments> swaps() {
    List<Arguments> cases = new ArrayList<>();
    List<Object[]> targets =
        List.of(
            new Object[] {"an absolute symlink", "sub", (Target) (l, c, b) -> symlink(l, "p", c)},
            new Object[] {
              "a relative ../.. symlink",
              "sub",
              (Target) (l, c, b) -> symlink(l, "p", "../".repeat(30) + c.substring(1))
            },
            new Object[] {
              "a symlink to the parent root", "etc", (Target) (l, c, b) -> symlink(l, "p", b)
            },
            new Object[] {
              "a chain of two symlinks",
              "sub",
              (Target)
                  (l, c, b) -> {
                    symlink(l, "q", "../".repeat(30) + c.substring(1));
                    return symlink(l, "p", "q");
                  }
            });
    for (Object[] target : targets) {
      cases.add(
          Arguments.of(
              "opaque directory pruned through " + target[0],
              target[1],
              (Deferred) (l, d) -> l.dir("p/" + d).file("p/" + d + "/kept", "new").opaque("p/" + d),
              target[2]));
      cases.add(
          Arguments.of(
              "directory time set through " + target[0],
              target[1],
              (Deferred) (l, d) -> l.dir("p/" + d),
              target[2]));
    }
    return cases.stream();
  }

  private static String symlink(TarBuilder layer, String name, String target) {
    layer.symlink(name, target);
    return target;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("swaps")
  void deferredWorkNeverFollowsASymlinkALaterEntryMade(
      String attack, String dir, Deferred deferred, Target target) throws Exception {
    TarBuilder layer = new TarBuilder().dir("p");
    deferred.setUp(layer, dir);
    String linkTarget = target.swap(layer, canary.toString(), baseRoot.toString());
    Path file = layer.write(tmp.resolve("attack.tar"));

    Path root =
        store
            .materialize(
                List.of(new LayerSource(base, null, null), new LayerSource(file, null, null)))
            .root();

    assertThat(Syscalls.get().readlink(root.resolve("p"))).as(attack).isEqualTo(linkTarget);
    canaries.assertUntouched();
    try (var left = Files.list(tmp.resolve("state/staging"))) {
      assertThat(left.filter(p -> !p.toString().endsWith(".lock"))).as("staging").isEmpty();
    }
  }
}
