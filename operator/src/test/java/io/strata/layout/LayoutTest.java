package io.strata.layout;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The node's on-disk tree, path by path, as NodeLayout's header draws it: agents of one release
 * find what agents of an earlier one left, so a path that moves is a migration, not a refactor.
 */
class LayoutTest {
  private static final String HEX = "a".repeat(64);
  private final NodeLayout node =
      new NodeLayout(Path.of("/var/lib/strata"), Path.of("/mnt/strata"));
  private final StoreLayout store = node.store();

  @Test
  void theStoresPathsAreWhereTheTreeSays() {
    assertThat(store.stateDir()).isEqualTo(Path.of("/var/lib/strata"));
    assertThat(store.ingest()).isEqualTo(Path.of("/var/lib/strata/ingest"));
    assertThat(store.blobs()).isEqualTo(Path.of("/var/lib/strata/blobs/sha256"));
    assertThat(store.blob(HEX)).isEqualTo(Path.of("/var/lib/strata/blobs/sha256/" + HEX));
    assertThat(store.staging()).isEqualTo(Path.of("/var/lib/strata/staging"));
    assertThat(store.build("k-1")).isEqualTo(Path.of("/var/lib/strata/staging/k-1"));
    assertThat(store.buildLock("k")).isEqualTo(Path.of("/var/lib/strata/staging/k.lock"));
    assertThat(StoreLayout.isBuildLock("k.lock")).isTrue();
    assertThat(StoreLayout.isBuildLock("k-1")).isFalse();
    assertThat(store.layers()).isEqualTo(Path.of("/var/lib/strata/layers"));
    assertThat(store.layer(HEX)).isEqualTo(Path.of("/var/lib/strata/layers/" + HEX));
    assertThat(store.layerRoot(HEX)).isEqualTo(Path.of("/var/lib/strata/layers/" + HEX + "/root"));
    assertThat(store.layerRecord(HEX))
        .isEqualTo(Path.of("/var/lib/strata/layers/" + HEX + "/layer.json"));
    assertThat(StoreLayout.recordIn(store.build("k-1")))
        .isEqualTo(Path.of("/var/lib/strata/staging/k-1/layer.json"));
    assertThat(StoreLayout.rootIn(store.build("k-1")))
        .isEqualTo(Path.of("/var/lib/strata/staging/k-1/root"));
    assertThat(store.diffIdRecord(HEX)).isEqualTo(Path.of("/var/lib/strata/diffids/sha256/" + HEX));
    assertThat(store.trash()).isEqualTo(Path.of("/var/lib/strata/trash"));
  }

  @Test
  void theNodesPathsAreWhereTheTreeSays() {
    assertThat(node.lockFile()).isEqualTo(Path.of("/var/lib/strata/.lock"));
    assertThat(node.uppers()).isEqualTo(Path.of("/var/lib/strata/uppers"));
    assertThat(node.upperHome("u1")).isEqualTo(Path.of("/var/lib/strata/uppers/u1"));
    assertThat(node.upperHome("u1").resolve(NodeLayout.UPPER))
        .isEqualTo(Path.of("/var/lib/strata/uppers/u1/upper"));
    assertThat(node.upperHome("u1").resolve(NodeLayout.WORK))
        .isEqualTo(Path.of("/var/lib/strata/uppers/u1/work"));
    assertThat(node.lowerRecord("u1")).isEqualTo(Path.of("/var/lib/strata/uppers/u1/lower"));
    assertThat(node.mountRecord("u1")).isEqualTo(Path.of("/var/lib/strata/uppers/u1/mount"));
    assertThat(node.emptyLower()).isEqualTo(Path.of("/var/lib/strata/empty"));
    assertThat(node.volumeHome("csi-0a1b")).isEqualTo(Path.of("/var/lib/strata/volumes/csi-0a1b"));
    assertThat(node.defaultTarget("env")).isEqualTo(Path.of("/mnt/strata/env"));
    assertThat(node.memoryUpper("u1")).isEqualTo(Path.of("/mnt/strata/.uppers/u1"));
  }

  @Test
  void relativeAndUnnormalizedDirectoriesAreMadeAbsolute() {
    NodeLayout relative = new NodeLayout(Path.of("state/../state"), Path.of("mnt"));
    Path here = Path.of("").toAbsolutePath();
    assertThat(relative.stateDir()).isEqualTo(here.resolve("state"));
    assertThat(relative.store().stateDir()).isEqualTo(here.resolve("state"));
    assertThat(relative.mountBase()).isEqualTo(here.resolve("mnt"));
  }
}
