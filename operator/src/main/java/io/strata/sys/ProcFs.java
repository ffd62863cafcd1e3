package io.strata.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What Strata reads from {@code /proc} about its own descriptors. */
final class ProcFs {
  private ProcFs() {}

  /** The id of the mount descriptor {@code fd} lives on, from {@code /proc/self/fdinfo}. */
  static long mountId(int fd) throws SyscallException {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd))) {
        if (line.startsWith("mnt_id:")) {
          return Long.parseLong(line.substring("mnt_id:".length()).trim());
        }
      }
    } catch (IOException | NumberFormatException e) {
      throw new SyscallException("read fdinfo", String.valueOf(fd), Errno.EIO.intValue());
    }
    throw new SyscallException("read fdinfo", String.valueOf(fd), Errno.ENOENT.intValue());
  }

  /** The magic link of descriptor {@code fd}, through which mount(2) reaches its very inode. */
  static String fdLink(int fd) {
    return "/proc/self/fd/" + fd;
  }
}
