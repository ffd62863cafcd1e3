package io.strata.layerstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.layerstore.CacheCollector.Budget;
import io.strata.layerstore.LayerStore.LayerSource;
import io.strata.layerstore.LayerStore.Materialized;
import io.strata.layout.NodeLayout;
import io.strata.layout.StoreLayout;
import io.strata.overlay.MountRequest;
import io.strata.overlay.MountedOverlay;
import io.strata.overlay.Overlays;
import io.strata.sys.Syscalls;
import io.strata.tarapply.LayerException;
import io.strata.tarapply.Limits;
import io.strata.testing.Canaries;
import io.strata.testing.RootMounts;
import io.strata.testing.TarBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way the node's trees are removed (a failed build, leftovers in staging and trash at
 * start-up, the cache collector, an upper under the Delete policy) stays inside the tree it
 * removes, whatever symlinks a layer or a user of a writable mount left in it: canaries outside the
 * state dir, reached by absolute and by climbing relative links, are untouched.
 */
class RemovalContainmentTest {
  @TempDir Path tmp;
  private final Canaries canaries = new Canaries();
  private RootMounts node;
  private StoreLayout layout;
  private LayerStore store;
  private Path canary;

  @BeforeEach
  void prepare() throws Exception {
    node = RootMounts.prepare(tmp);
    layout = new StoreLayout(node.stateDir);
    store = new LayerStore(layout, Syscalls.get(), Limits.DEFAULT);
    canary = canaries.plant(tmp.resolve("canary"));
  }

  @AfterEach
  void cleanUp() throws Exception {
    if (node != null) {
      node.cleanUp();
    }
  }

  /** Symlinks out of wherever they land, to the canary and into it, absolute and relative. */
  private TarBuilder linksOut(TarBuilder layer) {
    String climb = "../".repeat(40) + canary.toString().substring(1);
    return layer
        .symlink("abs", canary.toString())
        .symlink("abs-file", canary + "/secret")
        .symlink("deep/er/rel", climb)
        .symlink("deep/er/rel-sub", climb + "/sub")
        .dir("d")
        .file("d/f", "x".repeat(100));
  }

  @Test
  void aFailedBuildIsRemovedWithoutFollowingTheLinksItMade() throws Exception {
    Path layer =
        linksOut(new TarBuilder()).hardlink("broken", "nowhere").write(tmp.resolve("l.tar"));
    assertThatThrownBy(() -> store.materialize(List.of(new LayerSource(layer, null, null))))
        .isInstanceOf(LayerException.class);
    assertThat(list(layout.staging())).allMatch(n -> n.endsWith(".lock"));
    canaries.assertUntouched();
  }

  @Test
  void startUpEmptiesStagingAndTrashWithoutFollowingLinks() throws Exception {
    for (Path tree :
        List.of(layout.staging().resolve("0123-1"), layout.trash().resolve("old-root-1"))) {
      Files.createDirectories(tree.resolve("root/deep/er"));
      Files.createSymbolicLink(tree.resolve("root/abs"), canary);
      Files.createSymbolicLink(
          tree.resolve("root/deep/er/rel"),
          Path.of("../".repeat(40) + canary.toString().substring(1)));
    }
    store.recover();
    assertThat(list(layout.staging())).allMatch(n -> n.endsWith(".lock"));
    assertThat(list(layout.trash())).isEmpty();
    canaries.assertUntouched();
  }

  @Test
  void theCacheCollectorRemovesARootWithoutFollowingItsLinks() throws Exception {
    Path layer = linksOut(new TarBuilder()).write(tmp.resolve("l.tar"));
    Materialized made = store.materialize(List.of(new LayerSource(layer, null, null)));
    assertThat(made.root().resolve("abs")).isSymbolicLink();

    List<String> removed =
        new CacheCollector(layout, Syscalls.get()).collect(Set.of(), new Budget(1, 0, 0));

    assertThat(removed).containsExactly(made.chainId().hex());
    assertThat(made.root()).doesNotExist();
    canaries.assertUntouched();
  }

  @Test
  void anUpperIsRemovedWithoutFollowingTheLinksItsUsersMade() throws Exception {
    NodeLayout nodeLayout = new NodeLayout(node.stateDir, node.mountBase);
    Overlays overlays = new Overlays(nodeLayout, Syscalls.get());
    MountedOverlay mounted = overlays.mount(MountRequest.disk("u1", "env", node.lower));
    Path merged = mounted.target();
    Files.createSymbolicLink(merged.resolve("abs"), canary);
    Files.createDirectories(merged.resolve("deep/er"));
    Files.createSymbolicLink(
        merged.resolve("deep/er/rel"), Path.of("../".repeat(40) + canary.toString().substring(1)));
    Files.createSymbolicLink(merged.resolve("deep/er/sub"), canary.resolve("sub"));

    overlays.unmount("u1", true);

    assertThat(nodeLayout.upperHome("u1")).doesNotExist();
    canaries.assertUntouched();
  }

  private static List<String> list(Path dir) throws Exception {
    try (var s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).toList();
    }
  }
}
