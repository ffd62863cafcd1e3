package io.strata.tarapply;

import io.strata.sys.FileStat;
import io.strata.sys.SyscallException;
import io.strata.sys.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/** Copies one inode (file, symlink, FIFO, device) with everything a root compares on. */
final class Inodes {
  private Inodes() {}

  /**
   * Makes {@code to} (absent) a private copy of {@code from}: content, owner, mode, times, xattrs.
   */
  static void copy(Syscalls sys, Path from, Path to) throws IOException {
    FileStat stat = sys.lstat(from);
    if (stat.isRegular()) {
      Files.copy(from, to, LinkOption.NOFOLLOW_LINKS);
    } else if (stat.isSymlink()) {
      sys.symlink(sys.readlink(from), to);
    } else if (stat.isDirectory()) {
      throw new IOException("not copying directory " + from + " as an inode");
    } else {
      sys.mknod(to, stat.type() | 0600, stat.major(), stat.minor());
    }
    copyMetadata(sys, from, to, stat);
  }

  /** Owner, then mode (chown clears setuid), xattrs, then times. */
  static void copyMetadata(Syscalls sys, Path from, Path to, FileStat stat) throws IOException {
    copyMetadataExceptTimes(sys, from, to, stat);
    sys.lutimes(to, stat.mtimeSeconds() * 1_000_000_000L + stat.mtimeNanos());
  }

  /** Owner, then mode (chown clears setuid), then xattrs. */
  static void copyMetadataExceptTimes(Syscalls sys, Path from, Path to, FileStat stat)
      throws IOException {
    sys.lchown(to, stat.uid(), stat.gid());
    if (!stat.isSymlink()) {
      sys.chmod(to, stat.mode() & 07777);
    }
    for (String name : sys.llistxattr(from)) {
      try {
        sys.lsetxattr(to, name, sys.lgetxattr(from, name));
      } catch (SyscallException e) {
        if (!stat.isSymlink()) {
          throw e; // user.* xattrs cannot sit on symlinks; nothing else may be lost
        }
      }
    }
  }
}
