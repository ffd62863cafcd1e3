package io.strata.layerstore;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.layerstore.CacheCollector.Budget;
import io.strata.layerstore.LayerStore.LayerSource;
import io.strata.layerstore.LayerStore.Materialized;
import io.strata.layout.NodeLayout;
import io.strata.layout.StoreLayout;
import io.strata.overlay.MountRequest;
import io.strata.overlay.Overlays;
import io.strata.sys.Syscalls;
import io.strata.tarapply.Limits;
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

/** The cache budget evicts only unused roots, least recently used first. */
class CacheCollectorTest {
  @TempDir Path tmp;
  private RootMounts node;
  private StoreLayout layout;
  private LayerStore store;

  @BeforeEach
  void prepare() throws Exception {
    node = RootMounts.prepare(tmp);
    layout = new StoreLayout(node.stateDir);
    store = new LayerStore(layout, Syscalls.get(), Limits.DEFAULT);
  }

  @AfterEach
  void cleanUp() throws Exception {
    if (node != null) {
      node.cleanUp();
    }
  }

  private Materialized root(String name, int kib) throws Exception {
    Path layer =
        new TarBuilder()
            .file(name, new byte[kib << 10], e -> e.setMode(0644))
            .write(tmp.resolve(name + ".tar"));
    Materialized made = store.materialize(List.of(new LayerSource(layer, null, null)));
    Thread.sleep(20); // distinct last-used times
    return made;
  }

  @Test
  void overBudgetTheLeastRecentlyUsedUnusedRootsGoFirstAndNothingNeededOrMounted()
      throws Exception {
    Materialized oldest = root("oldest", 100);
    Materialized mounted = root("mounted", 100);
    Materialized older = root("older", 100);
    Materialized needed = root("needed", 100);
    Materialized newest = root("newest", 100);
    new Overlays(new NodeLayout(node.stateDir, node.mountBase), Syscalls.get())
        .mount(MountRequest.disk("m1", "m1", mounted.root()));

    CacheCollector collector = new CacheCollector(layout, Syscalls.get());
    List<String> removed =
        collector.collect(Set.of(needed.chainId().hex()), new Budget(250 << 10, 0, 0));

    assertThat(removed)
        .containsExactly(oldest.chainId().hex(), older.chainId().hex(), newest.chainId().hex());
    assertThat(oldest.root()).doesNotExist();
    assertThat(older.root()).doesNotExist();
    assertThat(mounted.root()).as("mounted: never removed").exists();
    assertThat(needed.root()).as("needed: never removed").exists();
    try (var trash = Files.list(layout.trash())) {
      assertThat(trash).isEmpty();
    }
  }

  @Test
  void aRootWhoseRecordIsUnreadableIsCountedByItsFilesAndGoesFirst() throws Exception {
    Materialized damaged = root("damaged", 100);
    Materialized older = root("older", 100);
    Materialized newest = root("newest", 100);
    Files.write(damaged.root().resolveSibling(StoreLayout.LAYER_RECORD), new byte[] {0, 0, '{'});
    store.materialize(
        List.of(new LayerSource(tmp.resolve("older.tar"), null, null))); // now the newest
    CacheCollector collector = new CacheCollector(layout, Syscalls.get());

    assertThat(collector.collect(Set.of(), new Budget(300 << 10, 0, 0)))
        .as("three roots of 100 KiB each fit in 300 KiB, the damaged one counted by its files")
        .isEmpty();
    assertThat(collector.collect(Set.of(), new Budget(250 << 10, 0, 0)))
        .containsExactly(damaged.chainId().hex());
    assertThat(newest.root()).exists();
    assertThat(older.root()).exists();
  }

  @Test
  void usageIsWhatTheCommittedRootsHoldOnAFilesystemOfItsSize() throws Exception {
    CacheCollector collector = new CacheCollector(layout, Syscalls.get());
    assertThat(collector.usage().bytes()).isZero();

    Materialized small = root("small", 10);
    Materialized large = root("large", 300);

    CacheCollector.Usage usage = collector.usage();
    assertThat(usage.bytes()).isEqualTo(small.bytes() + large.bytes()).isEqualTo(310 << 10);
    assertThat(usage.files()).isEqualTo(small.files() + large.files()).isEqualTo(2);
    assertThat(usage.capacityBytes())
        .isEqualTo(Syscalls.get().statfs(layout.stateDir()).totalBytes())
        .isGreaterThan(usage.bytes());
  }

  @Test
  void withinBudgetNothingIsRemoved() throws Exception {
    root("a", 10);
    root("b", 10);
    assertThat(
            new CacheCollector(layout, Syscalls.get()).collect(Set.of(), new Budget(1 << 30, 0, 0)))
        .isEmpty();
  }

  @Test
  void usingARootAgainMakesItTheMostRecent() throws Exception {
    Materialized first = root("first", 100);
    root("second", 100);
    Path layer = tmp.resolve("first.tar");
    store.materialize(List.of(new LayerSource(layer, null, null))); // reused: now the newest
    List<String> removed =
        new CacheCollector(layout, Syscalls.get()).collect(Set.of(), new Budget(150 << 10, 0, 0));
    assertThat(removed).doesNotContain(first.chainId().hex()).hasSize(1);
  }
}
