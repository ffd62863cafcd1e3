package io.strata.layerstore;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.layerstore.LayerStore.LayerSource;
import io.strata.layerstore.LayerStore.Materialized;
import io.strata.layout.StoreLayout;
import io.strata.sys.Syscalls;
import io.strata.tarapply.Limits;
import io.strata.testing.Tools;
import io.strata.testing.TreeSnapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A build killed midway or while its root is committed leaves no root or a complete one, and the
 * next run succeeds; two builds of one chain do the work once.
 */
class CrashAndConcurrencyTest {
  @TempDir Path tmp;
  private Path state;
  private Path layer;

  @BeforeEach
  void prepare() {
    Tools.requireRoot("needs root");
    state = tmp.resolve("state");
    layer = Tools.testRootfsTar(); // ~150 MB: long enough to be caught in the middle
  }

  private LayerStore store() {
    return new LayerStore(new StoreLayout(state), Syscalls.get(), Limits.DEFAULT);
  }

  @Test
  void killDashNineMidMaterializeLeavesNoRootAndTheNextRunSucceeds() throws Exception {
    Process victim = materializeInAProcessOfItsOwn();
    Path staging = state.resolve("staging");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline && !midBuild(staging)) {
      Thread.sleep(20);
    }
    assertThat(midBuild(staging)).as("caught the build in the middle").isTrue();
    kill(victim);

    try (var layers = Files.list(state.resolve("layers"))) {
      assertThat(layers).as("no half-built root was published").isEmpty();
    }

    LayerStore restarted = store();
    restarted.recover();
    assertNoLeftovers(staging);
    Materialized made = restarted.materialize(List.of(new LayerSource(layer, null, null)));
    assertThat(made.reused()).isFalse();
    assertThat(made.root().resolve("etc/debian_version")).exists();
  }

  @Test
  void killDashNineAsTheRootIsCommittedLeavesNoRootOrACompleteOne() throws Exception {
    Process victim = materializeInAProcessOfItsOwn();
    Path staging = state.resolve("staging");
    Path layers = state.resolve("layers");
    // Every entry is written once the store starts the thread that syncs the root: kill then,
    // in the commit window, while the root is synced before its record and the rename.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline && !syncing(victim) && !isNonEmpty(layers)) {
      Thread.sleep(1);
    }
    assertThat(syncing(victim) || isNonEmpty(layers)).as("reached the commit").isTrue();
    kill(victim);

    List<Path> published;
    try (var listed = Files.list(layers)) {
      published = listed.toList();
    }
    assertThat(published).as("at most the one root").hasSizeLessThanOrEqualTo(1);
    for (Path root : published) { // the kill came just after the rename: the root must be whole
      assertThat(root.resolve(StoreLayout.LAYER_RECORD)).as("published with its record").exists();
      TreeSnapshot reference =
          TreeSnapshot.of(
              new LayerStore(
                      new StoreLayout(tmp.resolve("reference")), Syscalls.get(), Limits.DEFAULT)
                  .materialize(List.of(new LayerSource(layer, null, null)))
                  .root());
      assertThat(TreeSnapshot.of(root.resolve("root"))).as("complete").isEqualTo(reference);
    }

    LayerStore restarted = store();
    restarted.recover();
    assertNoLeftovers(staging);
    Materialized made = restarted.materialize(List.of(new LayerSource(layer, null, null)));
    assertThat(made.reused()).isEqualTo(!published.isEmpty());
    assertThat(made.root().resolve("etc/debian_version")).exists();
  }

  @Test
  void whatAKillDuringRemovalLeftInTrashIsClearedAtStartAndNothingElse() throws Exception {
    LayerStore store = store();
    Path kept = store.materialize(List.of(new LayerSource(layer, null, null))).root();
    TreeSnapshot before = TreeSnapshot.of(kept);
    // A removal renames the tree into trash/ in one step, then deletes it there: a kill midway
    // leaves part of it.
    Path trash = state.resolve(StoreLayout.TRASH);
    Path remains = Files.createDirectories(trash.resolve("root-123/usr/share/doc"));
    Files.writeString(remains.resolve("left"), "half deleted");

    LayerStore restarted = store();
    restarted.recover();
    assertThat(trash).isEmptyDirectory();
    assertThat(TreeSnapshot.of(kept)).isEqualTo(before);
    assertThat(restarted.materialize(List.of(new LayerSource(layer, null, null))).reused())
        .isTrue();
  }

  @Test
  void twoRequestsForOneChainBuildItOnce() throws Exception {
    LayerStore store = store();
    List<LayerSource> chain = List.of(new LayerSource(layer, null, null));
    CompletableFuture<Materialized> first =
        CompletableFuture.supplyAsync(() -> materialize(store, chain));
    CompletableFuture<Materialized> second =
        CompletableFuture.supplyAsync(() -> materialize(store(), chain));
    Materialized a = first.get(120, TimeUnit.SECONDS);
    Materialized b = second.get(120, TimeUnit.SECONDS);
    assertThat(a.root()).isEqualTo(b.root());
    assertThat(List.of(a.reused(), b.reused())).containsExactlyInAnyOrder(true, false);
  }

  private static Materialized materialize(LayerStore store, List<LayerSource> chain) {
    try {
      return store.materialize(chain);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code strata materialize} of the layer into the state dir, in a JVM that can be killed. */
  private Process materializeInAProcessOfItsOwn() throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    return new ProcessBuilder(
            java,
            "-cp",
            System.getProperty("java.class.path"),
            "io.strata.cli.Main",
            "materialize",
            "--state-dir",
            state.toString(),
            layer.toString())
        .redirectErrorStream(true)
        .redirectOutput(tmp.resolve("victim.log").toFile())
        .start();
  }

  private static void kill(Process victim) throws InterruptedException {
    victim.destroyForcibly(); // SIGKILL
    assertThat(victim.waitFor(10, TimeUnit.SECONDS)).as("killed").isTrue();
  }

  /** The process runs the store's {@code strata-layer-sync} thread (15 characters of it). */
  private static boolean syncing(Process process) throws Exception {
    try (var tasks = Files.list(Path.of("/proc", Long.toString(process.pid()), "task"))) {
      return tasks.anyMatch(
          task -> {
            try {
              return Files.readString(task.resolve("comm")).startsWith("strata-layer-sy");
            } catch (java.io.IOException gone) {
              return false;
            }
          });
    } catch (java.io.IOException gone) {
      return false;
    }
  }

  private static boolean isNonEmpty(Path dir) throws Exception {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (var entries = Files.list(dir)) {
      return entries.findAny().isPresent();
    }
  }

  private static void assertNoLeftovers(Path staging) throws Exception {
    try (var left = Files.list(staging)) {
      assertThat(left.filter(p -> !p.toString().endsWith(".lock")))
          .as("leftovers cleared")
          .isEmpty();
    }
  }

  /** A build directory exists and already holds part of a root. */
  private static boolean midBuild(Path staging) throws Exception {
    if (!Files.isDirectory(staging)) {
      return false;
    }
    try (var entries = Files.list(staging)) {
      return entries.anyMatch(p -> Files.isDirectory(p.resolve("root/usr")));
    }
  }
}
