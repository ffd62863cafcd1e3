package io.strata.layerstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.sys.SyscallException;
import io.strata.sys.Syscalls;
import io.strata.testing.FaultyDisk;
import io.strata.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A build's early writeback puts its files on the disk before the publishing sync, and a failure of
 * the disk there is not lost: the kernel reports it once, to the sync that met it.
 */
class WritebackTest {
  @TempDir Path tmp;

  @Test
  void aRequestPutsTheBuildsDataOnTheDiskWithoutWaitingForIt() throws Exception {
    try (FaultyDisk disk = FaultyDisk.ext4(Files.createDirectories(tmp.resolve("disk")), "64M")) {
      Path build = Files.createDirectories(disk.path().resolve("build"));
      try (Writeback writeback = new Writeback(Syscalls.get(), build, "strata-layer-writeback")) {
        Tools.run(tmp, "sync", "-f", build.toString()); // what making the filesystem left
        long before = disk.written();
        write(build.resolve("data"));
        writeback.request();
        // The kernel alone would write these pages back after 30 s: the writeback does it now.
        Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
        while (disk.written() - before < DATA && Instant.now().isBefore(deadline)) {
          Thread.sleep(20);
        }
        assertThat(disk.written() - before).as("bytes on the disk").isGreaterThanOrEqualTo(DATA);
        writeback.finish();
      }
      assertThat(writebackThreads()).as("writeback threads left").isZero();
    }
  }

  @Test
  void finishRunsTheSyncAskedForJustBefore() throws Exception {
    try (FaultyDisk disk = FaultyDisk.ext4(Files.createDirectories(tmp.resolve("disk")), "64M")) {
      Path build = Files.createDirectories(disk.path().resolve("build"));
      Tools.run(tmp, "sync", "-f", build.toString());
      long before = disk.written();
      try (Writeback sync = new Writeback(Syscalls.get(), build, "strata-layer-sync")) {
        write(build.resolve("data"));
        sync.request(); // as a build publishes: the sync is asked for, then waited on at once
        sync.finish();
      }
      assertThat(disk.written() - before).as("bytes on the disk").isGreaterThanOrEqualTo(DATA);
    }
  }

  @Test
  void aFailedWritebackIsThrownByTheNextRequestByFinishAndInPlaceOfWhatFailedAfter()
      throws Exception {
    try (FaultyDisk disk = FaultyDisk.ext4(Files.createDirectories(tmp.resolve("disk")), "64M")) {
      Path build = Files.createDirectories(disk.path().resolve("build"));
      try (Writeback writeback = new Writeback(Syscalls.get(), build, "strata-layer-writeback")) {
        write(build.resolve("data"));
        disk.failWrites(true);
        IOException failed = requestUntilFailed(writeback);
        assertThat(failed)
            .isInstanceOf(SyscallException.class)
            .hasMessageContaining("syncfs(" + build)
            .hasMessageMatching(".*(Input/output error|Read-only file system).*"); // as it aborts
        assertThatThrownBy(writeback::request).isSameAs(failed);
        assertThatThrownBy(writeback::finish).isSameAs(failed);
        // What failed after it, on a filesystem the failure made read-only, rides along.
        IOException later = new IOException("open(/build/root/etc): Read-only file system");
        assertThatThrownBy(() -> writeback.throwFailureBehind(later))
            .isSameAs(failed)
            .satisfies(e -> assertThat(e.getSuppressed()).containsExactly(later));
      }
      assertThat(writebackThreads()).as("writeback threads left").isZero();
    }
  }

  /** Requests writebacks, a moment apart, until one throws what an earlier one met. */
  private static IOException requestUntilFailed(Writeback writeback) throws Exception {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
    while (Instant.now().isBefore(deadline)) {
      try {
        writeback.request();
      } catch (IOException e) {
        return e;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no request threw the failed writeback within 60 s");
  }

  private static final int DATA = 4 << 20;

  /** 4 MiB the page cache holds until something writes it back. */
  private static void write(Path file) throws IOException {
    byte[] data = new byte[DATA];
    new Random(7).nextBytes(data);
    Files.write(file, data);
  }

  static long writebackThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals("strata-layer-writeback"))
        .count();
  }
}
