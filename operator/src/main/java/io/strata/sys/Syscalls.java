package io.strata.sys;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * The one checked facade over {@link LibC}: every other class makes system calls through here, and
 * every failure becomes a {@link SyscallException} naming the call, the path and errno.
 */
public final class Syscalls {
  private static final Syscalls INSTANCE = new Syscalls();

  private final LibC libc;
  private final Runtime runtime;

  private Syscalls() {
    this.libc = LibraryLoader.create(LibC.class).load("c");
    this.runtime = Runtime.getRuntime(libc);
  }

  public static Syscalls get() {
    return INSTANCE;
  }

  /** open(2); the caller owns the returned descriptor. */
  public int open(Path path, int flags, int mode) throws SyscallException {
    return check(libc.open(path.toString(), flags | LibC.O_CLOEXEC, mode), "open", path);
  }

  public void close(int fd) throws SyscallException {
    check(libc.close(fd), "close", "fd " + fd);
  }

  /**
   * flock(2) with {@code LOCK_EX|LOCK_NB}.
   *
   * @return false when another open file description holds the lock
   */
  public boolean tryLockExclusive(int fd, Path path) throws SyscallException {
    if (libc.flock(fd, LibC.LOCK_EX | LibC.LOCK_NB) == 0) {
      return true;
    }
    int errno = runtime.getLastError();
    if (errno == jnr.constants.platform.Errno.EWOULDBLOCK.intValue()) {
      return false;
    }
    throw new SyscallException("flock", path.toString(), errno);
  }

  public void mount(String source, Path target, String type, long flags, String data)
      throws SyscallException {
    check(libc.mount(source, target.toString(), type, flags, data), "mount", target);
  }

  public void umount2(Path target, int flags) throws SyscallException {
    check(libc.umount2(target.toString(), flags), "umount2", target);
  }

  public void lsetxattr(Path path, String name, byte[] value) throws SyscallException {
    check(libc.lsetxattr(path.toString(), name, value, value.length, 0), "lsetxattr", path);
  }

  /** lgetxattr(2) into a buffer of {@code max} bytes; returns the value's bytes. */
  public byte[] lgetxattr(Path path, String name, int max) throws SyscallException {
    byte[] buffer = new byte[max];
    long size = libc.lgetxattr(path.toString(), name, buffer, buffer.length);
    if (size < 0) {
      throw new SyscallException("lgetxattr", path + " " + name, runtime.getLastError());
    }
    return Arrays.copyOf(buffer, (int) size);
  }

  /**
   * The {@code d_type} that readdir(3) reports for each entry of {@code dir} ({@code DT_UNKNOWN} =
   * 0 where the filesystem does not fill it in, which overlayfs cannot work with).
   */
  public Map<String, Integer> directoryEntryTypes(Path dir) throws SyscallException {
    Pointer handle = libc.opendir(dir.toString());
    if (handle == null) {
      throw new SyscallException("opendir", dir.toString(), runtime.getLastError());
    }
    try {
      Map<String, Integer> types = new TreeMap<>();
      for (Pointer entry = libc.readdir(handle); entry != null; entry = libc.readdir(handle)) {
        // glibc x86_64/aarch64 struct dirent: d_ino(8) d_off(8) d_reclen(2) d_type(1) d_name[]
        types.put(entry.getString(DIRENT_NAME_OFFSET), entry.getByte(DIRENT_TYPE_OFFSET) & 0xff);
      }
      return types;
    } finally {
      libc.closedir(handle);
    }
  }

  private static final int DIRENT_TYPE_OFFSET = 18;
  private static final int DIRENT_NAME_OFFSET = 19;

  private int check(int result, String syscall, Object path) throws SyscallException {
    if (result < 0) {
      throw new SyscallException(syscall, String.valueOf(path), runtime.getLastError());
    }
    return result;
  }
}
