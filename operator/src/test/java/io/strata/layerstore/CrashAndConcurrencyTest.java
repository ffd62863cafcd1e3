package io.strata.layerstore;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.layerstore.LayerStore.LayerSource;
import io.strata.layerstore.LayerStore.Materialized;
import io.strata.layout.NodeLayout;
import io.strata.sys.Syscalls;
import io.strata.tarapply.Limits;
import io.strata.testing.RootMounts;
import io.strata.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A build killed midway leaves no root; two builds of one chain do the work once. */
class CrashAndConcurrencyTest {
  @TempDir Path tmp;
  private Path state;
  private Path layer;

  @BeforeEach
  void prepare() {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        RootMounts.isRoot(), "needs root (CI runs as root)");
    state = tmp.resolve("state");
    layer = Tools.testRootfsTar(); // ~150 MB: long enough to be caught in the middle
  }

  private LayerStore store() {
    return new LayerStore(
        new NodeLayout(state, tmp.resolve("mnt")), Syscalls.get(), Limits.DEFAULT);
  }

  @Test
  void killDashNineMidMaterializeLeavesNoRootAndTheNextRunSucceeds() throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Process victim =
        new ProcessBuilder(
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
    Path staging = state.resolve("staging");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline && !midBuild(staging)) {
      Thread.sleep(20);
    }
    assertThat(midBuild(staging)).as("caught the build in the middle").isTrue();
    victim.destroyForcibly(); // SIGKILL
    victim.waitFor(10, TimeUnit.SECONDS);

    try (var layers = Files.list(state.resolve("layers"))) {
      assertThat(layers).as("no half-built root was published").isEmpty();
    }

    LayerStore restarted = store();
    restarted.recover();
    try (var left = Files.list(staging)) {
      assertThat(left.filter(p -> !p.toString().endsWith(".lock")))
          .as("leftovers cleared")
          .isEmpty();
    }
    Materialized made = restarted.materialize(List.of(new LayerSource(layer, null, null)));
    assertThat(made.reused()).isFalse();
    assertThat(made.root().resolve("etc/debian_version")).exists();
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
