package io.strata.tarapply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.oci.Digest;
import io.strata.oci.MediaTypes;
import io.strata.sys.Syscalls;
import io.strata.testing.TarBuilder;
import io.strata.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One layer blob through the reader: what it reports (the blob's digest, the diffID of the tar
 * inside, entries and bytes) for each compression, as real tools write them, and how a damaged blob
 * is refused.
 */
class LayerReaderTest {
  @TempDir Path tmp;

  private byte[] tar;

  @BeforeEach
  void layer() {
    Tools.requireRoot("a layer's owners are applied as written");
    tar =
        new TarBuilder()
            .dir("etc")
            .file("etc/os-release", "ID=strata\n")
            .file("greeting", "hello\n")
            .bytes();
  }

  @Test
  void eachCompressionReportsTheBlobDigestAndTheDiffIdOfTheTarInside() throws Exception {
    Path plain = Files.write(tmp.resolve("layer.tar"), tar);
    Path gzip = tmp.resolve("layer.tar.gz");
    Tools.sh(tmp, "gzip -c -n layer.tar > layer.tar.gz");
    Path zstd = tmp.resolve("layer.tar.zst");
    Tools.sh(tmp, "zstd -q -c layer.tar > layer.tar.zst");

    for (Path blob : new Path[] {plain, gzip, zstd}) {
      String mediaType =
          blob == plain
              ? MediaTypes.OCI_LAYER
              : blob == gzip ? MediaTypes.OCI_LAYER_GZIP : MediaTypes.OCI_LAYER_ZSTD;
      Path root = Files.createDirectory(tmp.resolve("root-" + blob.getFileName()));
      LayerReader.Applied applied;
      try (RootWriter writer =
          new RootWriter(root, null, Syscalls.get(), Limits.DEFAULT, () -> {})) {
        applied = new LayerReader(Limits.DEFAULT).apply(blob, mediaType, writer);
      }

      assertThat(applied.blobDigest()).as("%s", blob).isEqualTo(sha256(Files.readAllBytes(blob)));
      assertThat(applied.diffId()).as("%s", blob).isEqualTo(sha256(tar));
      assertThat(applied.entries()).as("%s", blob).isEqualTo(3);
      assertThat(Files.readString(root.resolve("etc/os-release"))).isEqualTo("ID=strata\n");
    }
  }

  @Test
  void aCutOffBlobIsTruncatedAndBytesAfterTheArchiveAreRefused() throws Exception {
    Files.write(tmp.resolve("layer.tar"), tar);
    Tools.sh(tmp, "gzip -c -n layer.tar > whole.tar.gz");
    byte[] whole = Files.readAllBytes(tmp.resolve("whole.tar.gz"));
    Path cut =
        Files.write(tmp.resolve("cut.tar.gz"), java.util.Arrays.copyOf(whole, whole.length / 2));
    Tools.sh(tmp, "zstd -q -c layer.tar > trailing.tar.zst && printf garbage >> trailing.tar.zst");

    assertThatThrownBy(() -> apply(cut, MediaTypes.OCI_LAYER_GZIP))
        .isInstanceOfSatisfying(
            LayerException.class,
            e -> assertThat(e.reason()).isEqualTo(LayerException.Reason.Truncated))
        .hasMessageStartingWith(cut.toString());
    assertThatThrownBy(() -> apply(tmp.resolve("trailing.tar.zst"), MediaTypes.OCI_LAYER_ZSTD))
        .isInstanceOfSatisfying(
            LayerException.class,
            e -> assertThat(e.reason()).isEqualTo(LayerException.Reason.TrailingGarbage));
  }

  private void apply(Path blob, String mediaType) throws Exception {
    Path root = Files.createTempDirectory(tmp, "root-");
    try (RootWriter writer = new RootWriter(root, null, Syscalls.get(), Limits.DEFAULT, () -> {})) {
      new LayerReader(Limits.DEFAULT).apply(blob, mediaType, writer);
    }
  }

  private static Digest sha256(byte[] bytes) {
    return Digest.of(bytes);
  }
}
