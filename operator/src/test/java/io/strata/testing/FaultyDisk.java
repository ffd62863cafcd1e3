package io.strata.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import jnr.ffi.Pointer;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import ru.serce.jnrfuse.ErrorCodes;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;

/**
 * A real ext4 on a disk that fails on demand, for the faults device-mapper would inject where the
 * kernel has it (this one does not). The disk is an image file served as {@code fuse/disk} by a
 * FUSE filesystem in this process; a loop device over that file carries the ext4, mounted at {@link
 * #path()}. While {@link #failWrites} is on, every write reaching the disk returns EIO, so the
 * kernel sees what a dying disk gives it: writeback errors that {@code fsync} and {@code syncfs}
 * report, and a journal that aborts and leaves the filesystem read-only. While {@link #failReads}
 * is on, every read reaching the disk (one the page cache does not answer) does.
 */
public final class FaultyDisk implements AutoCloseable {
  private final Path image;
  private final Path served;
  private final Path mounted;
  private final Disk disk;

  private FaultyDisk(Path dir, Disk disk) {
    this.image = dir.resolve("disk.img");
    this.served = dir.resolve("fuse");
    this.mounted = dir.resolve("fs");
    this.disk = disk;
  }

  /**
   * Makes an ext4 of {@code size} (as {@code truncate -s} reads it) under {@code dir} and mounts
   * it. Skips the calling test without root or libfuse (CI has both).
   */
  public static FaultyDisk ext4(Path dir, String size) throws Exception {
    Tools.require(RootMounts.isRoot(), "root, for FUSE and loop mounts,");
    Tools.require(Files.exists(Path.of("/dev/fuse")) && hasLibfuse(), "libfuse2 and /dev/fuse");
    Path image = dir.resolve("disk.img");
    Tools.run(dir, "truncate", "-s", size, image.toString());
    Tools.run(dir, "mkfs.ext4", "-q", "-F", image.toString());
    FaultyDisk faulty = new FaultyDisk(dir, new Disk(image));
    Files.createDirectories(faulty.served);
    Files.createDirectories(faulty.mounted);
    // direct_io: every read and write of the loop device reaches Disk, none is answered from a
    // page cache of the image; big_writes: 128 KiB a request, not 4 KiB.
    faulty.disk.mount(
        faulty.served,
        false,
        false,
        new String[] {"-o", "direct_io,big_writes,max_write=131072,fsname=strata-faulty-disk"});
    faulty.mountExt4();
    return faulty;
  }

  /** Whether libfuse.so.2, which jnr-fuse loads, is in a multiarch directory (Debian's place). */
  private static boolean hasLibfuse() throws IOException {
    try (var dirs = Files.newDirectoryStream(Path.of("/usr/lib"), "*-linux-gnu")) {
      for (Path dir : dirs) {
        if (Files.exists(dir.resolve("libfuse.so.2"))) {
          return true;
        }
      }
    }
    return false;
  }

  /** Where the ext4 is mounted. */
  public Path path() {
    return mounted;
  }

  /** While on, every write to the disk fails with EIO. */
  public void failWrites(boolean fail) {
    disk.failWrites.set(fail);
  }

  /** While on, every read from the disk fails with EIO. */
  public void failReads(boolean fail) {
    disk.failReads.set(fail);
  }

  /** Reads and writes refused since the disk was made. */
  public long refused() {
    return disk.refused.get();
  }

  /** Bytes written to the disk since it was made. */
  public long written() {
    return disk.written.get();
  }

  /** Unmounts and mounts the ext4 again: nothing of it stays in the page cache. */
  public void remount() throws Exception {
    Tools.run(image.getParent(), "umount", mounted.toString());
    mountExt4();
  }

  /**
   * What a node does after a disk error and a reboot: the filesystem goes (unmounted while the
   * fault lasts, so what had not reached the disk is lost), the fault clears, and the filesystem is
   * checked and repaired by {@code e2fsck} and mounted again.
   */
  public void repairAndRemount() throws Exception {
    Tools.run(image.getParent(), "umount", mounted.toString());
    failWrites(false);
    failReads(false);
    Process fsck = new ProcessBuilder("e2fsck", "-f", "-y", image.toString()).start();
    String output = new String(fsck.getInputStream().readAllBytes());
    // 0: clean; 1: errors corrected. Anything else leaves the disk unusable.
    assertThat(fsck.waitFor()).as("e2fsck: %s", output).isLessThanOrEqualTo(1);
    mountExt4();
  }

  /**
   * A power cut and a reboot: whatever was written but not yet on the disk is lost, as the page
   * cache is, and the filesystem comes back as its journal left it.
   */
  public void powerCut() throws Exception {
    failWrites(true);
    repairAndRemount();
  }

  private void mountExt4() throws Exception {
    Tools.run(
        image.getParent(),
        "mount",
        "-o",
        "loop",
        served.resolve("disk").toString(),
        mounted.toString());
  }

  @Override
  public void close() throws Exception {
    failWrites(false);
    failReads(false);
    try {
      new ProcessBuilder("umount", mounted.toString()).start().waitFor();
    } finally {
      disk.umount();
      disk.close();
    }
  }

  /** The FUSE filesystem: a root directory holding {@code disk}, the image file. */
  private static final class Disk extends FuseStubFS {
    private static final String NAME = "/disk";
    private final FileChannel image;
    private final long size;
    final AtomicBoolean failWrites = new AtomicBoolean();
    final AtomicBoolean failReads = new AtomicBoolean();
    final AtomicLong refused = new AtomicLong();
    final AtomicLong written = new AtomicLong();

    Disk(Path image) throws IOException {
      this.image = FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE);
      this.size = image.toFile().length();
    }

    @Override
    public int getattr(String path, FileStat stat) {
      if ("/".equals(path)) {
        stat.st_mode.set(FileStat.S_IFDIR | 0755);
        stat.st_nlink.set(2);
        return 0;
      }
      if (NAME.equals(path)) {
        stat.st_mode.set(FileStat.S_IFREG | 0600);
        stat.st_nlink.set(1);
        stat.st_size.set(size);
        return 0;
      }
      return -ErrorCodes.ENOENT();
    }

    @Override
    public int readdir(
        String path, Pointer buf, FuseFillDir filler, @off_t long offset, FuseFileInfo fi) {
      if (!"/".equals(path)) {
        return -ErrorCodes.ENOTDIR();
      }
      filler.apply(buf, ".", null, 0);
      filler.apply(buf, "..", null, 0);
      filler.apply(buf, NAME.substring(1), null, 0);
      return 0;
    }

    @Override
    public int open(String path, FuseFileInfo fi) {
      return NAME.equals(path) ? 0 : -ErrorCodes.ENOENT();
    }

    @Override
    public int read(
        String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
      if (failReads.get()) {
        refused.incrementAndGet();
        return -ErrorCodes.EIO();
      }
      ByteBuffer bytes = ByteBuffer.allocate((int) Math.min(size, Math.max(0, this.size - offset)));
      try {
        while (bytes.hasRemaining() && image.read(bytes, offset + bytes.position()) > 0) {}
      } catch (IOException e) {
        return -ErrorCodes.EIO();
      }
      buf.put(0, bytes.array(), 0, bytes.position());
      return bytes.position();
    }

    @Override
    public int write(
        String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
      if (failWrites.get() || offset + size > this.size) {
        refused.incrementAndGet();
        return -ErrorCodes.EIO();
      }
      byte[] bytes = new byte[(int) size];
      buf.get(0, bytes, 0, bytes.length);
      try {
        ByteBuffer data = ByteBuffer.wrap(bytes);
        while (data.hasRemaining()) {
          image.write(data, offset + data.position());
        }
      } catch (IOException e) {
        return -ErrorCodes.EIO();
      }
      written.addAndGet(size);
      return (int) size;
    }

    @Override
    public int fsync(String path, int isdatasync, FuseFileInfo fi) {
      if (failWrites.get()) {
        refused.incrementAndGet();
        return -ErrorCodes.EIO();
      }
      try {
        image.force(false);
        return 0;
      } catch (IOException e) {
        return -ErrorCodes.EIO();
      }
    }

    void close() throws IOException {
      image.close();
    }
  }
}
