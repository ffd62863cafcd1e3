package io.strata.layout;

import io.strata.sys.Fd;
import io.strata.sys.FileStat;
import io.strata.sys.SyscallException;
import io.strata.sys.Syscalls;
import java.io.IOException;

/**
 * Copies one inode (file, symlink, FIFO, device) with everything a root compares on. Both sides are
 * named by a directory descriptor and one name, so nothing is looked up through a path.
 */
public final class Inodes {
  private Inodes() {}

  /**
   * Makes {@code to} of {@code toDir} (absent) a private copy of {@code from} of {@code fromDir}:
   * content, owner, mode, times, xattrs. FIFOs and devices are made anew, never opened.
   */
  public static void copy(Syscalls sys, Fd fromDir, String from, Fd toDir, String to)
      throws IOException {
    FileStat stat = sys.lstatat(fromDir, from);
    if (stat.isRegular()) {
      try (Fd in = sys.openFileAt(fromDir, from);
          Fd out = sys.createNewAt(toDir, to, 0600)) {
        if (out == null) {
          throw new IOException(toDir.describe() + "/" + to + " exists: not copying onto it");
        }
        sys.copyContent(in, out);
      }
    } else if (stat.isSymlink()) {
      sys.symlinkat(sys.readlinkat(fromDir, from), toDir, to);
    } else if (stat.isDirectory()) {
      throw new IOException("not copying directory " + fromDir.describe() + "/" + from);
    } else {
      sys.mknodat(toDir, to, stat.type() | 0600, stat.major(), stat.minor());
    }
    copyMetadata(sys, fromDir, from, toDir, to, stat);
  }

  /** Owner, then mode (chown clears setuid), xattrs, then times. */
  public static void copyMetadata(
      Syscalls sys, Fd fromDir, String from, Fd toDir, String to, FileStat stat)
      throws IOException {
    copyMetadataExceptTimes(sys, fromDir, from, toDir, to, stat);
    sys.lutimesat(toDir, to, stat.mtimeSeconds() * 1_000_000_000L + stat.mtimeNanos());
  }

  /** Owner, then mode (chown clears setuid), then xattrs. */
  public static void copyMetadataExceptTimes(
      Syscalls sys, Fd fromDir, String from, Fd toDir, String to, FileStat stat)
      throws IOException {
    sys.lchownat(toDir, to, stat.uid(), stat.gid());
    if (!stat.isSymlink()) {
      sys.chmodat(toDir, to, stat.mode() & 07777);
    }
    for (String name : sys.llistxattrAt(fromDir, from)) {
      try {
        sys.lsetxattrAt(toDir, to, name, sys.lgetxattrAt(fromDir, from, name));
      } catch (SyscallException e) {
        if (!stat.isSymlink()) {
          throw e; // user.* xattrs cannot sit on symlinks; nothing else may be lost
        }
      }
    }
  }
}
