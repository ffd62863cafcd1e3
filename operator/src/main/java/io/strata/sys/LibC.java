package io.strata.sys;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The raw C library binding (glibc, Linux x86_64 and aarch64): each method mirrors its C signature
 * and returns what C returns. Nothing outside this package calls it; {@link Syscalls} checks every
 * result. Structs are passed as byte arrays and decoded by {@link FileStat} and {@link FsStat}.
 */
@SaveError
public interface LibC {
  int AT_FDCWD = -100;
  int AT_SYMLINK_NOFOLLOW = 0x100;
  int AT_REMOVEDIR = 0x200;
  int AT_EMPTY_PATH = 0x1000;

  int O_RDONLY = 0;
  int O_WRONLY = 01;
  int O_RDWR = 02;
  int O_CREAT = 0100;
  int O_EXCL = 0200;
  int O_TRUNC = 01000;
  int O_DIRECTORY = 0200000;
  int O_NOFOLLOW = 0400000;
  int O_CLOEXEC = 02000000;
  int O_PATH = 010000000;

  /** openat2(2) {@code resolve} flags. */
  long RESOLVE_NO_XDEV = 0x01;

  long RESOLVE_NO_MAGICLINKS = 0x02;
  long RESOLVE_NO_SYMLINKS = 0x04;
  long RESOLVE_BENEATH = 0x08;

  /** The openat2 system call number, the same on x86_64 and aarch64. */
  long SYS_OPENAT2 = 437;

  int LOCK_EX = 2;
  int LOCK_NB = 4;
  int LOCK_UN = 8;

  long MS_RDONLY = 1;
  long MS_NOSUID = 2;
  long MS_NODEV = 4;
  long MS_BIND = 4096;
  long MS_PRIVATE = 1 << 18;
  long MS_SHARED = 1 << 20;

  int MNT_DETACH = 2;
  int UMOUNT_NOFOLLOW = 8;

  /** Loop devices (linux/loop.h). */
  long LOOP_CTL_GET_FREE = 0x4C82;

  long LOOP_CONFIGURE = 0x4C0A;
  int LOOP_MAJOR = 7;
  int LO_FLAGS_AUTOCLEAR = 4;
  int S_IFBLK = 0060000;

  int RENAME_NOREPLACE = 1;
  int RENAME_EXCHANGE = 2;
  int RENAME_WHITEOUT = 4;

  int open(@In String path, int flags, int mode);

  int openat(int dirfd, @In String path, int flags, int mode);

  /** {@code syscall(SYS_openat2, dirfd, path, &how, sizeof how)}; {@code how} is 24 bytes. */
  long syscall(long number, int dirfd, @In String path, @In byte[] how, @size_t long size);

  int close(int fd);

  long pwrite(int fd, @In byte[] buf, @size_t long count, long offset);

  int fchown(int fd, int uid, int gid);

  int fchmod(int fd, int mode);

  int ftruncate(int fd, long length);

  /** ioctl(2) with an integer argument. */
  int ioctl(int fd, long request, long arg);

  /** ioctl(2) with a struct, passed as its bytes. */
  int ioctl(int fd, long request, @In byte[] arg);

  int futimens(int fd, @In long[] times);

  int fsetxattr(int fd, @In String name, @In byte[] value, @size_t long size, int flags);

  int flock(int fd, int operation);

  int mkdirat(int dirfd, @In String path, int mode);

  int unlinkat(int dirfd, @In String path, int flags);

  int fstatat(int dirfd, @In String path, @Out byte[] stat, int flags);

  int statfs(@In String path, @Out byte[] buf);

  int fstatfs(int fd, @Out byte[] buf);

  int fsync(int fd);

  int isatty(int fd);

  int syncfs(int fd);

  int renameat2(int olddirfd, @In String oldpath, int newdirfd, @In String newpath, int flags);

  int mknodat(int dirfd, @In String path, int mode, long dev);

  int symlinkat(@In String target, int newdirfd, @In String linkpath);

  int linkat(int olddirfd, @In String oldpath, int newdirfd, @In String newpath, int flags);

  @ssize_t
  long read(int fd, @Out byte[] buf, @size_t long count);

  /** With null offsets: from and to each file's own offset. */
  @ssize_t
  long copy_file_range(
      int fdIn, Pointer offIn, int fdOut, Pointer offOut, @size_t long length, int flags);

  @ssize_t
  long readlinkat(int dirfd, @In String path, @Out byte[] buf, @size_t long size);

  int fchownat(int dirfd, @In String path, int uid, int gid, int flags);

  int fchmodat(int dirfd, @In String path, int mode, int flags);

  @ssize_t
  long llistxattr(@In String path, @Out byte[] list, @size_t long size);

  /** {@code times} is two struct timespec: {sec, nsec, sec, nsec}. */
  int utimensat(int dirfd, @In String path, @In long[] times, int flags);

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

  /** Takes {@code fd} over: closedir(3) closes it. */
  Pointer fdopendir(int fd);

  /** Returns a {@code struct dirent *}, or NULL at the end or on error. */
  Pointer readdir(Pointer dir);

  int closedir(Pointer dir);
}
