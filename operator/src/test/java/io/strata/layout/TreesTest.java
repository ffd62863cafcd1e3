package io.strata.layout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.sys.Fd;
import io.strata.sys.Syscalls;
import io.strata.testing.Canaries;
import io.strata.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TreesTest {
  @TempDir Path tmp;

  /**
   * The agent deletes what it moved into trash/ while a start-up elsewhere (a `strata materialize`
   * on the same state dir) empties trash/: entries that vanish under one of them are gone, which is
   * what it wanted, not a failure.
   */
  @Test
  void twoRemovalsOfOneTreeBothSucceed() throws Exception {
    for (int round = 0; round < 3; round++) {
      Path tree = tmp.resolve("tree-" + round);
      for (int d = 0; d < 20; d++) {
        Path dir = Files.createDirectories(tree.resolve("d" + d).resolve("sub"));
        for (int f = 0; f < 50; f++) {
          Files.createFile(dir.resolve("f" + f));
        }
      }
      CyclicBarrier together = new CyclicBarrier(2);
      CompletableFuture<Void> one = CompletableFuture.runAsync(() -> delete(tree, together));
      CompletableFuture<Void> other = CompletableFuture.runAsync(() -> delete(tree, together));
      one.get(60, TimeUnit.SECONDS);
      other.get(60, TimeUnit.SECONDS);
      assertThat(tree).doesNotExist();
    }
  }

  /**
   * A user of a writable mount can nest directories far beyond PATH_MAX in an upper; its removal
   * holds a bounded number of them open and still removes every one.
   */
  @Test
  void aTreeDeeperThanAPathCanNameIsRemoved() throws Exception {
    Syscalls sys = Syscalls.get();
    Path tree = Files.createDirectories(tmp.resolve("deep"));
    Fd at = sys.openDirectory(tree);
    for (int depth = 0; depth < 2_000; depth++) { // 2,000 x "level/" = 12,000 bytes
      sys.mkdirat(at, "level", 0755);
      Fd next = sys.openDirectoryAt(at, "level");
      if (depth % 100 == 0) {
        sys.createNewAt(next, "file", 0644).close();
      }
      at.close();
      at = next;
    }
    at.close();

    Trees.deleteUnmounted(tree);

    assertThat(tree).doesNotExist();
    assertThat(tmp).isEmptyDirectory();
  }

  /** A mount inside a tree stops its removal there: nothing is removed through it. */
  @Test
  void aRemovalNeverCrossesIntoAMountInsideTheTree() throws Exception {
    Tools.requireRoot("bind mounts need root");
    Canaries canaries = new Canaries();
    Path canary = canaries.plant(tmp.resolve("canary"));
    Path tree = Files.createDirectories(tmp.resolve("tree/a/mounted"));
    Tools.run(tmp, "mount", "--bind", canary.toString(), tree.toString());
    try (Fd dir = Syscalls.get().openDirectory(tmp)) {
      assertThatThrownBy(() -> Trees.removeAt(Syscalls.get(), dir, "tree"))
          .hasMessageContaining("tree/a/mounted: it is a mountpoint");
    } finally {
      Tools.run(tmp, "umount", tree.toString());
    }
    canaries.assertUntouched();
  }

  @Test
  void aTreeThatIsNotThereIsAlreadyDeleted() throws Exception {
    Trees.deleteUnmounted(tmp.resolve("never-made"));
    assertThat(tmp).isEmptyDirectory();
  }

  private static void delete(Path tree, CyclicBarrier together) {
    try {
      together.await();
      Trees.deleteUnmounted(tree);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
