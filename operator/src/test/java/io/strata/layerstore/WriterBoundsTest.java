package io.strata.layerstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.layerstore.LayerStore.LayerSource;
import io.strata.layout.StoreLayout;
import io.strata.sys.Syscalls;
import io.strata.tarapply.LayerException;
import io.strata.tarapply.LayerException.Reason;
import io.strata.tarapply.Limits;
import io.strata.testing.TarBuilder;
import io.strata.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the writer keeps for a layer is bounded: the distinct paths it names (its implied
 * directories included) and the bytes of what it defers to its end. Past either, the layer is
 * refused with SizeLimit, nothing is committed and staging is empty; within them, deferred work
 * read back from its compact form is done to the right paths.
 */
class WriterBoundsTest {
  @TempDir Path tmp;

  @BeforeEach
  void needsRoot() {
    Tools.requireRoot("owners need root");
  }

  private LayerStore store(Limits limits) {
    return new LayerStore(new StoreLayout(tmp.resolve("state")), Syscalls.get(), limits);
  }

  private void assertRefused(Limits limits, Path layer, String message) {
    assertThatThrownBy(() -> store(limits).materialize(List.of(new LayerSource(layer, null, null))))
        .isInstanceOfSatisfying(
            LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.SizeLimit))
        .hasMessageContaining(message);
  }

  @Test
  void aLayerNamingMorePathsThanTheBoundIsRefused() throws Exception {
    // 20 entries, each 10 directories deep: 200 distinct paths, implied directories included.
    TarBuilder tar = new TarBuilder();
    for (int i = 0; i < 20; i++) {
      tar.file("top-" + i + "/a/b/c/d/e/f/g/h/file", "x");
    }
    Path layer = tar.write(tmp.resolve("deep.tar"));
    assertRefused(
        Limits.DEFAULT.withMaxLayerPaths(100, 8L << 20), layer, "names more than 100 paths");
    try (var left = Files.list(tmp.resolve("state/staging"))) {
      assertThat(left.filter(p -> !p.toString().endsWith(".lock"))).isEmpty();
    }
    assertThat(store(Limits.DEFAULT).materialize(List.of(new LayerSource(layer, null, null))))
        .as("within the default bound")
        .isNotNull();
  }

  @Test
  void directoryTimesPastTheirBytesAreRefused() throws Exception {
    TarBuilder tar = new TarBuilder();
    for (int i = 0; i < 200; i++) {
      tar.dir(i + "-names-that-share-no-prefix/"); // front coding saves little here
    }
    Path layer = tar.write(tmp.resolve("dirs.tar"));
    assertRefused(
        Limits.DEFAULT.withMaxLayerPaths(1_000_000, 4096), layer, "directory times take more");
  }

  /** Times are read back from the front-coded log and set on the directories they belong to. */
  @Test
  void deferredTimesAreSetOnTheRightDirectories() throws Exception {
    TarBuilder tar = new TarBuilder();
    String[] dirs = {"a", "a/b", "a/b/c", "a/bb", "x", "x/y", "a/b/c/d"};
    for (int i = 0; i < dirs.length; i++) {
      int seconds = 1_000_000 + i;
      tar.entry(
          dirs[i] + "/",
          org.apache.commons.compress.archivers.tar.TarConstants.LF_DIR,
          new byte[0],
          e -> e.setModTime(seconds * 1000L));
      tar.file(dirs[i] + "/f", "written after the directory's own entry");
    }
    Path root =
        store(Limits.DEFAULT)
            .materialize(List.of(new LayerSource(tar.write(tmp.resolve("t.tar")), null, null)))
            .root();
    for (int i = 0; i < dirs.length; i++) {
      assertThat(Syscalls.get().lstat(root.resolve(dirs[i])).mtimeSeconds())
          .as(dirs[i])
          .isEqualTo(1_000_000 + i);
    }
  }
}
