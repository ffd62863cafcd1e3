package io.strata.layerstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.strata.layerstore.LayerStore.LayerSource;
import io.strata.layerstore.LayerStore.Materialized;
import io.strata.layout.StoreLayout;
import io.strata.layout.Trees;
import io.strata.oci.Digest;
import io.strata.sys.Syscalls;
import io.strata.tarapply.LayerException;
import io.strata.tarapply.LayerException.Reason;
import io.strata.tarapply.Limits;
import io.strata.testing.FaultyDisk;
import io.strata.testing.TarBuilder;
import io.strata.testing.Tools;
import io.strata.testing.TreeSnapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache's disk fails (EIO) while a layer is built: nothing half-built is published, not even
 * for the moment before the node reboots, the error says what failed, a committed root survives,
 * and once the disk is repaired the next start clears the remains and builds the layer. A layer the
 * disk cannot read is an error naming it; a root committed before a power cut comes back whole.
 */
class DiskErrorsTest {
  @TempDir Path tmp;
  private Path base;
  private Path child;

  @BeforeEach
  void layers() {
    base = new TarBuilder().file("etc/hostname", "base").write(tmp.resolve("base.tar"));
    TarBuilder layer = new TarBuilder().file("etc/hostname", "child");
    Random random = new Random(11);
    for (int i = 0; i < 8; i++) { // 8 MiB that must reach the disk before the root is published
      byte[] data = new byte[1 << 20];
      random.nextBytes(data);
      layer.file("data/" + i, data, e -> e.setMode(0644));
    }
    child = layer.write(tmp.resolve("child.tar"));
  }

  @Test
  void aDiskThatFailsWhileALayerIsAppliedPublishesNothing() throws Exception {
    try (FaultyDisk disk = disk()) {
      Materialized parent = storeOn(disk).materialize(List.of(source(base)));
      TreeSnapshot parentBefore = TreeSnapshot.of(parent.root());

      disk.failWrites(true);
      // The layer's files are written to the page cache; the first sync, of the diffID record
      // made once the layer is applied, meets the disk's refusals.
      assertFailsNamingTheDisk(disk, catchThrowable(() -> storeOn(disk).materialize(chain())));
      assertRoots(disk, parent.chainId());
      assertTheRebootedNodeBuildsIt(disk, parent, parentBefore);
    }
  }

  @Test
  void aDiskThatFailsWhileARootIsSyncedPublishesNothing() throws Exception {
    try (FaultyDisk disk = disk()) {
      Materialized parent = storeOn(disk).materialize(List.of(source(base)));
      // Built once and collected: the diffIDs stay recorded, so nothing syncs before the root does.
      Materialized collected = storeOn(disk).materialize(chain());
      Trees.delete(collected.root().getParent());
      Tools.run(tmp, "sync", "-f", disk.path().toString()); // or the failing journal brings it back
      TreeSnapshot parentBefore = TreeSnapshot.of(parent.root());

      disk.failWrites(true);
      Throwable failed = catchThrowable(() -> storeOn(disk).materialize(chain()));
      assertFailsNamingTheDisk(disk, failed);
      assertThat(failed)
          .hasMessageStartingWith("committing " + collected.chainId())
          .hasMessageContaining("syncfs(" + disk.path().resolve("state/staging")); // the build
      // The failed sync aborted the journal and the disk went read-only, so the build could not be
      // removed either: that failure rides along with the one that stopped the build.
      assertThat(failed.getCause().getSuppressed())
          .singleElement()
          .asString()
          .contains(disk.path().resolve("state/staging").toString(), "Read-only file system");
      assertRoots(disk, parent.chainId());
      assertTheRebootedNodeBuildsIt(disk, parent, parentBefore);
    }
  }

  @Test
  void aDiskThatFailsWhileABigLayerIsWrittenBackPublishesNothing() throws Exception {
    TarBuilder layer = new TarBuilder().file("etc/hostname", "child");
    for (int i = 0; i < 5_000; i++) { // past the entries at which the build starts a writeback
      layer.file("many/" + i, "file " + i);
    }
    Path big = layer.write(tmp.resolve("big.tar"));
    try (FaultyDisk disk = disk()) {
      Materialized parent = storeOn(disk).materialize(List.of(source(base)));
      // Built once and collected: the diffIDs stay recorded, so the writebacks sync first.
      Materialized collected = storeOn(disk).materialize(List.of(source(base), source(big)));
      Trees.delete(collected.root().getParent());
      Tools.run(tmp, "sync", "-f", disk.path().toString());
      TreeSnapshot parentBefore = TreeSnapshot.of(parent.root());

      disk.failWrites(true);
      Throwable failed =
          catchThrowable(() -> storeOn(disk).materialize(List.of(source(base), source(big))));
      // Met first by a writeback while the layer was applied, by the sync that would publish it,
      // or by whatever wrote next once the failed journal had made the filesystem read-only.
      assertThat(disk.refused()).as("writes the disk refused").isPositive();
      assertThat(failed)
          .as("the build on a failing disk")
          .isInstanceOfSatisfying(
              LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.IOError))
          .hasMessageContaining(disk.path().resolve("state/staging").toString())
          .hasMessageMatching("(?s).*(Input/output error|Read-only file system).*");
      assertThat(WritebackTest.writebackThreads()).as("writeback threads left").isZero();
      assertRoots(disk, parent.chainId());
      assertTheRebootedNodeBuildsIt(disk, parent, parentBefore);
    }
  }

  @Test
  void aLayerTheDiskCannotReadIsAnIOErrorNamingIt() throws Exception {
    try (FaultyDisk disk = disk()) {
      Path blob = Files.copy(child, disk.path().resolve("child.tar"));
      Digest digest = Digest.ofFile(blob);
      disk.remount(); // every read of the blob now reaches the disk
      Files.size(blob); // its inode is read while the disk still answers
      disk.failReads(true);
      // The store's own files are on a healthy disk; only the layer cannot be read.
      LayerStore store =
          new LayerStore(new StoreLayout(tmp.resolve("state")), Syscalls.get(), Limits.DEFAULT);
      Materialized parent = store.materialize(List.of(source(base)));

      // Without a declared digest the blob is hashed first, as the command line does.
      assertThatThrownBy(() -> store.materialize(List.of(source(base), source(blob))))
          .isInstanceOf(IOException.class)
          .hasMessage("reading " + blob + ": Input/output error");
      // With one, as the agent's blobs always have, it is read once, while it is applied.
      LayerSource declared = new LayerSource(blob, digest, null);
      assertThatThrownBy(() -> store.materialize(List.of(source(base), declared)))
          .isInstanceOfSatisfying(
              LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.IOError))
          .hasMessage(blob + ": Input/output error");
      assertThat(disk.refused()).as("reads the disk refused").isPositive();
      try (var roots = Files.list(tmp.resolve("state/layers"))) {
        assertThat(roots.map(p -> p.getFileName().toString()))
            .containsExactly(parent.chainId().hex());
      }

      disk.failReads(false);
      assertBuilt(store.materialize(List.of(source(base), declared)));
    }
  }

  @Test
  void aRootCommittedBeforeAPowerCutComesBackWhole() throws Exception {
    try (FaultyDisk disk = disk()) {
      Materialized built = storeOn(disk).materialize(chain());
      TreeSnapshot before = TreeSnapshot.of(built.root());
      disk.powerCut(); // at once: the kernel has written back nothing the store did not sync
      assertRoots(disk, built.chainId());
      assertThat(TreeSnapshot.of(built.root()))
          .as("the root after the power cut")
          .isEqualTo(before);
      Materialized again = recovered(disk).materialize(chain());
      assertThat(again.reused()).as("the record and the diffIDs came back too").isTrue();
      assertThat(again.files()).isEqualTo(built.files());
    }
  }

  /**
   * After the disk is repaired and the node restarted: the parent is the only root and unchanged,
   * staging is empty, and the chain builds.
   */
  private void assertTheRebootedNodeBuildsIt(
      FaultyDisk disk, Materialized parent, TreeSnapshot parentBefore) throws Exception {
    disk.repairAndRemount();
    LayerStore restarted = recovered(disk);
    assertRoots(disk, parent.chainId());
    assertThat(TreeSnapshot.of(parent.root())).as("the committed parent").isEqualTo(parentBefore);
    assertBuilt(restarted.materialize(chain()));
  }

  /** 256 MiB of the disk are the store's reserve; the rest holds the layers. */
  private FaultyDisk disk() throws Exception {
    return FaultyDisk.ext4(Files.createDirectories(tmp.resolve("disk")), "400M");
  }

  private static void assertFailsNamingTheDisk(FaultyDisk disk, Throwable failed) {
    assertThat(disk.refused()).as("writes the disk refused").isPositive();
    assertThat(failed)
        .as("the build on a failing disk")
        .isInstanceOfSatisfying(
            LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.IOError))
        .hasMessageContaining(disk.path().toString()) // the file or build the disk failed on
        .hasMessageContaining("Input/output error");
  }

  /** The roots {@code layers/} holds, as the running node sees them (or the rebooted one). */
  private static void assertRoots(FaultyDisk disk, Digest... chains) throws Exception {
    try (var roots = Files.list(disk.path().resolve("state/layers"))) {
      assertThat(roots.map(p -> p.getFileName().toString()))
          .as("committed roots")
          .containsExactlyInAnyOrder(
              List.of(chains).stream().map(Digest::hex).toArray(String[]::new));
    }
  }

  /** A store started on the repaired disk: staging holds no build afterwards. */
  private LayerStore recovered(FaultyDisk disk) throws Exception {
    LayerStore store = storeOn(disk);
    store.recover();
    try (var left = Files.list(disk.path().resolve("state/staging"))) {
      assertThat(left.filter(p -> !p.toString().endsWith(".lock"))).as("staging").isEmpty();
    }
    return store;
  }

  private static void assertBuilt(Materialized built) throws Exception {
    assertThat(built.reused()).isFalse();
    assertThat(Files.readString(built.root().resolve("etc/hostname"))).isEqualTo("child");
    assertThat(Files.size(built.root().resolve("data/7"))).isEqualTo(1 << 20);
  }

  private List<LayerSource> chain() {
    return List.of(source(base), source(child));
  }

  private LayerStore storeOn(FaultyDisk disk) {
    return new LayerStore(
        new StoreLayout(disk.path().resolve("state")), Syscalls.get(), Limits.DEFAULT);
  }

  private static LayerSource source(Path tar) {
    return new LayerSource(tar, null, null);
  }
}
