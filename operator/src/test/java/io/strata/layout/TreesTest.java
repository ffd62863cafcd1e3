package io.strata.layout;

import static org.assertj.core.api.Assertions.assertThat;

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
