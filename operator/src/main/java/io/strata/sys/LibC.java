package io.strata.sys;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The raw C library binding: each method mirrors its C signature exactly and returns what C
 * returns. Nothing outside this package calls it; {@link Syscalls} checks every result.
 */
@SaveError
public interface LibC {
  int O_RDONLY = 0;
  int O_RDWR = 02;
  int O_CREAT = 0100;
  int O_NOFOLLOW = 0400000;
  int O_DIRECTORY = 0200000;
  int O_CLOEXEC = 02000000;

  int LOCK_EX = 2;
  int LOCK_NB = 4;
  int LOCK_UN = 8;

  long MS_RDONLY = 1;
  long MS_NOSUID = 2;
  long MS_NODEV = 4;

  int MNT_DETACH = 2;

  int open(@In String path, int flags, int mode);

  int close(int fd);

  int flock(int fd, int operation);

  int mount(
      @In String source,
      @In String target,
      @In String filesystemType,
      @size_t long mountFlags,
      @In String data);

  int umount2(@In String target, int flags);

  int lsetxattr(@In String path, @In String name, @In byte[] value, @size_t long size, int flags);

  @ssize_t
  long lgetxattr(@In String path, @In String name, @Out byte[] value, @size_t long size);

  Pointer opendir(@In String path);

  /** Returns a {@code struct dirent *}, or NULL at the end or on error. */
  Pointer readdir(Pointer dir);

  int closedir(Pointer dir);
}
