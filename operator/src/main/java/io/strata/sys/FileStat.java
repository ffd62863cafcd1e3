package io.strata.sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The fields of {@code struct stat} Strata uses, decoded from the x86_64/aarch64 layouts. The ctime
 * changes with anything done to an inode (content, owner, mode, times, xattrs, links), so comparing
 * it shows whether something was touched at all.
 */
public record FileStat(
    long dev,
    long ino,
    long nlink,
    int mode,
    int uid,
    int gid,
    long rdev,
    long size,
    long mtimeSeconds,
    long mtimeNanos,
    long ctimeSeconds,
    long ctimeNanos) {

  static final int SIZE = 144;

  public static final int S_IFMT = 0170000;
  public static final int S_IFDIR = 0040000;
  public static final int S_IFREG = 0100000;
  public static final int S_IFLNK = 0120000;
  public static final int S_IFCHR = 0020000;
  public static final int S_IFBLK = 0060000;
  public static final int S_IFIFO = 0010000;

  static FileStat decode(byte[] raw) {
    ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder());
    if (Arch.AARCH64) {
      // generic layout: dev, ino, mode(4), nlink(4), uid, gid, rdev, pad, size, blksize(4), pad,
      // blocks, atime(16), mtime(16), ctime(16)
      return new FileStat(
          b.getLong(0),
          b.getLong(8),
          Integer.toUnsignedLong(b.getInt(20)),
          b.getInt(16),
          b.getInt(24),
          b.getInt(28),
          b.getLong(32),
          b.getLong(48),
          b.getLong(88),
          b.getLong(96),
          b.getLong(104),
          b.getLong(112));
    }
    // x86_64: dev, ino, nlink(8), mode(4), uid, gid, pad, rdev, size, blksize, blocks, atime,
    // mtime, ctime
    return new FileStat(
        b.getLong(0),
        b.getLong(8),
        b.getLong(16),
        b.getInt(24),
        b.getInt(28),
        b.getInt(32),
        b.getLong(40),
        b.getLong(48),
        b.getLong(88),
        b.getLong(96),
        b.getLong(104),
        b.getLong(112));
  }

  public int type() {
    return mode & S_IFMT;
  }

  public boolean isDirectory() {
    return type() == S_IFDIR;
  }

  public int major() {
    return (int) (((rdev >>> 32) & 0xfffff000L) | ((rdev >>> 8) & 0xfffL));
  }

  public int minor() {
    return (int) (((rdev >>> 12) & 0xffffff00L) | (rdev & 0xffL));
  }

  public boolean isRegular() {
    return type() == S_IFREG;
  }

  public boolean isSymlink() {
    return type() == S_IFLNK;
  }

  /** A whiteout, as overlayfs writes one: a character device 0:0. */
  public boolean isWhiteout() {
    return type() == S_IFCHR && rdev == 0;
  }

  private static final class Arch {
    static final boolean AARCH64 = "aarch64".equals(System.getProperty("os.arch"));
  }
}
