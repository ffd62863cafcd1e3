package io.strata.overlay;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A file system in a sparse file: the upper of a Disk volume whose size the kernel enforces. The
 * file takes only what is written into it; writes past its size fail with ENOSPC inside, and the
 * node's disk never sees them. ext4, made by the node's mke2fs (e2fsprogs), with lazy
 * initialisation: a few milliseconds whatever the size.
 */
public final class DiskImage {
  private static final long MKFS_TIMEOUT_SECONDS = 60;

  private DiskImage() {}

  /** Makes {@code image} ({@code bytes} long, sparse, 0600) and an empty ext4 in it. */
  public static void create(Path image, long bytes) throws IOException {
    Files.createFile(
        image, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
      file.setLength(bytes);
    }
    List<String> command =
        List.of(
            "mke2fs",
            "-q",
            "-F",
            "-t",
            "ext4",
            "-m",
            "0",
            "-E",
            "nodiscard,lazy_itable_init=1,lazy_journal_init=1,root_owner=0:0",
            image.toString());
    Process mkfs = new ProcessBuilder(command).redirectErrorStream(true).start();
    mkfs.getOutputStream().close();
    try {
      if (!mkfs.waitFor(MKFS_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        mkfs.destroyForcibly();
        throw new IOException("mke2fs of " + image + " took over " + MKFS_TIMEOUT_SECONDS + " s");
      }
    } catch (InterruptedException e) {
      mkfs.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while making the file system in " + image, e);
    }
    if (mkfs.exitValue() != 0) {
      String printed = new String(mkfs.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      throw new IOException(
          "mke2fs of " + image + " exited " + mkfs.exitValue() + ": " + printed.strip());
    }
  }
}
