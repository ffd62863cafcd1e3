package io.strata.layerstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.strata.layerstore.LayerStore.LayerSource;
import io.strata.layout.StoreLayout;
import io.strata.sys.Syscalls;
import io.strata.tarapply.LayerException;
import io.strata.tarapply.LayerException.Reason;
import io.strata.tarapply.Limits;
import io.strata.testing.Tools;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Sparse files, as GNU tar archives them (the old GNU format and PAX 1.0): holes are holes on disk
 * and cost no work, and the size they claim counts against the layer's byte limit, so a tiny
 * archive cannot keep a worker writing zeros for hours.
 */
class SparseFilesTest {
  private static final long GIB = 1L << 30;

  @TempDir Path tmp;

  /**
   * A tar of {@code count} files of {@code size} bytes each, "head" at the start and "tail" at the
   * end of each, the rest a hole. Commons Compress reads PAX sparse sizes only below 2 GiB and the
   * old GNU format's below 8 GiB: larger ones are refused as malformed before any work.
   */
  private Path sparseTar(String format, int count, long size) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("src-" + format + "-" + count + "-" + size));
    for (int i = 0; i < count; i++) {
      try (RandomAccessFile file = new RandomAccessFile(dir.resolve("big" + i).toFile(), "rw")) {
        file.setLength(size);
        file.write("head".getBytes(StandardCharsets.US_ASCII));
        file.seek(size - 4);
        file.write("tail".getBytes(StandardCharsets.US_ASCII));
      }
    }
    Path tar = tmp.resolve("sparse-" + format + "-" + count + "-" + size + ".tar");
    Tools.run(dir, "tar", "--sparse", "--format=" + format, "-cf", tar.toString(), ".");
    return tar;
  }

  private LayerStore store() {
    return new LayerStore(new StoreLayout(tmp.resolve("state")), Syscalls.get(), Limits.DEFAULT);
  }

  @ParameterizedTest
  @CsvSource({"gnu, 4294967296", "posix, 1610612736"})
  void holesStayHolesAndCostNoWork(String format, long size) throws Exception {
    Path tar = sparseTar(format, 1, size);
    assertThat(Files.size(tar)).as("the archive").isLessThan(1 << 20);

    Path root =
        assertTimeoutPreemptively(
            Duration.ofSeconds(30),
            () -> store().materialize(List.of(new LayerSource(tar, null, null))).root());

    Path big = root.resolve("big0");
    assertThat(Files.size(big)).isEqualTo(size);
    try (RandomAccessFile file = new RandomAccessFile(big.toFile(), "r")) {
      byte[] head = new byte[4];
      file.readFully(head);
      file.seek(size - 4);
      byte[] tail = new byte[4];
      file.readFully(tail);
      assertThat(new String(head, StandardCharsets.US_ASCII)).isEqualTo("head");
      assertThat(new String(tail, StandardCharsets.US_ASCII)).isEqualTo("tail");
    }
    long blocks = Long.parseLong(Tools.run(tmp, "stat", "-c", "%b", big.toString()).strip());
    assertThat(blocks * 512).as("bytes on disk").isLessThan(1 << 20);
  }

  /** Sparse files that claim 72 and 80 GiB in all, past the layer's 64 GiB: refused at once. */
  @ParameterizedTest
  @CsvSource({"gnu, 9, 8589934080", "posix, 40, 2147483136"})
  void sparseFilesClaimingMoreThanTheLayerLimitAreRefusedAtOnce(String format, int count, long size)
      throws Exception {
    Path tar = sparseTar(format, count, size);
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () ->
            assertThatThrownBy(() -> store().materialize(List.of(new LayerSource(tar, null, null))))
                .isInstanceOfSatisfying(
                    LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.SizeLimit))
                .hasMessageContaining(
                    "takes the layer past " + Limits.DEFAULT.maxUncompressedBytes()));
    try (var left = Files.list(tmp.resolve("state/staging"))) {
      assertThat(left.filter(p -> !p.toString().endsWith(".lock"))).isEmpty();
    }
  }
}
