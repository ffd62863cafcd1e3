package io.strata.sys;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The system calls Strata makes, named by what they are for, each failure a {@link
 * SyscallException} naming the call, the path and errno. {@link #get()} is the Linux implementation
 * (jnr-ffi); an interface so that code above it can be tested against one of the test's own.
 */
public interface Syscalls {
  /** The Linux implementation, resolving paths beneath a directory with openat2(2). */
  static Syscalls get() {
    return LinuxSyscalls.INSTANCE;
  }

  /** The id of the mount an open descriptor lives on. */
  long mountId(Fd fd) throws SyscallException;

  /**
   * flock(2) with {@code LOCK_EX|LOCK_NB}.
   *
   * @return false when another open file description holds the lock
   */
  boolean tryLockExclusive(Fd fd, Path path) throws SyscallException;

  /** mkdirat(2); returns false when {@code name} already exists (of whatever type). */
  boolean mkdirat(Fd dir, String name, int mode) throws SyscallException;

  void unlinkat(Fd dir, String name, boolean directory) throws SyscallException;

  /** fstatat(2) of {@code name} beneath {@code dir}, not following a final symlink. */
  FileStat lstatat(Fd dir, String name) throws SyscallException;

  /** lstat of an absolute path. */
  FileStat lstat(Path path) throws SyscallException;

  /** fstat of an open descriptor (including an {@code O_PATH} one). */
  FileStat fstat(Fd fd) throws SyscallException;

  FsStat statfs(Path path) throws SyscallException;

  /**
   * Attaches the regular file {@code image} to a free loop device that detaches itself once the
   * last user goes: the returned handle until it is closed, then the file system mounted on it.
   * Mount the device before closing the handle. Makes the device's node in {@code /dev} when this
   * mount namespace lacks it (a container's {@code /dev} is filled when it starts).
   */
  LoopDevice attachLoopDevice(Path image) throws SyscallException;

  void fsync(Fd fd) throws SyscallException;

  /** Whether standard error (descriptor 2) is a terminal: where progress is drawn for a person. */
  boolean stderrIsTerminal();

  void syncfs(Fd fd) throws SyscallException;

  void mknodat(Fd dir, String name, int mode, long dev) throws SyscallException;

  /** fchownat(2) of {@code name} itself (a symlink is not followed). */
  void lchownat(Fd dir, String name, int uid, int gid) throws SyscallException;

  /** utimensat(2) of {@code name} itself: access and modification times, in nanoseconds. */
  void lutimensat(Fd dir, String name, long atimeNanos, long mtimeNanos) throws SyscallException;

  /**
   * A handle on directory {@code path} ({@code O_PATH}): for *at calls and for mounting onto, not
   * for listing. A symlink on the path is followed, as the configured paths it opens may be.
   */
  Fd openDirectoryHandle(Path path) throws SyscallException;

  /**
   * A handle on directory {@code relative} beneath {@code dir} that may lie on another mount (a
   * mount's own root, say), still refusing any symlink and any {@code ..}.
   */
  Fd openDirectoryBeneathAcrossMounts(Fd dir, String relative) throws SyscallException;

  /** Opens regular file {@code path} for reading. */
  Fd openForReading(Path path) throws SyscallException;

  /** Opens (creating it, 0600) the lock file {@code path} for flock; never through a symlink. */
  Fd openLockFile(Path path) throws SyscallException;

  void rename(Fd fromDir, String from, Fd toDir, String to) throws SyscallException;

  /** renameat2(2) {@code RENAME_NOREPLACE}: fails with EEXIST rather than replace {@code to}. */
  void renameNoReplace(Fd fromDir, String from, Fd toDir, String to) throws SyscallException;

  /** renameat2(2) {@code RENAME_EXCHANGE}: swaps two names atomically. */
  void renameExchange(Fd dir, String a, String b) throws SyscallException;

  /**
   * renameat2(2) {@code RENAME_WHITEOUT}: moves {@code from} and leaves a whiteout in its place.
   */
  void renameWhiteout(Fd dir, String from, String to) throws SyscallException;

  /** mount(2) with the given options; {@code target} may be a {@code /proc/self/fd/N} link. */
  void mount(String source, String target, String type, Set<MountOption> options, String data)
      throws SyscallException;

  /** umount2(2) of {@code target} as it is, never lazily detached. */
  void unmount(Path target) throws SyscallException;

  /** umount2(2) {@code UMOUNT_NOFOLLOW}: a symlink at {@code target} is not followed. */
  void unmountNoFollow(String target) throws SyscallException;

  /** Opens directory {@code path} for listing and for the *at calls below; never a symlink. */
  Fd openDirectory(Path path) throws SyscallException;

  /** Opens directory {@code name} of {@code dir} for listing and *at calls; never a symlink. */
  Fd openDirectoryAt(Fd dir, String name) throws SyscallException;

  /**
   * Opens directory {@code relative} beneath {@code dir} as a handle for *at calls ({@code O_PATH}:
   * no read permission needed), refusing any symlink on the way, any {@code ..} and any mount
   * crossed.
   */
  Fd openDirectoryBeneath(Fd dir, String relative) throws SyscallException;

  /** fstatat(2) of {@code name} itself, or null when nothing is there. */
  FileStat lstatatIfExists(Fd dir, String name) throws SyscallException;

  /** The names in an open directory, without {@code .} and {@code ..}, in readdir order. */
  List<String> list(Fd dir) throws SyscallException;

  /**
   * Creates {@code name} in {@code dir} as a new regular file with {@code mode}, open for writing;
   * null when something (of any type, a symlink included) is already there.
   */
  Fd createNewAt(Fd dir, String name, int mode) throws SyscallException;

  /** Opens regular file {@code name} of {@code dir} for reading, never through a symlink. */
  Fd openFileAt(Fd dir, String name) throws SyscallException;

  /** symlinkat(2), the target stored byte for byte; false, and nothing done, when taken. */
  boolean symlinkatIfAbsent(String target, Fd dir, String name) throws SyscallException;

  void symlinkat(String target, Fd dir, String name) throws SyscallException;

  /** The target of symlink {@code name} of {@code dir}, byte for byte. */
  String readlinkat(Fd dir, String name) throws SyscallException;

  /**
   * linkat(2) without {@code AT_SYMLINK_FOLLOW}: a symlink gets a second name itself. EMLINK (the
   * filesystem's link limit) is for the caller to test with {@link SyscallException#is}.
   */
  void linkat(Fd fromDir, String from, Fd toDir, String to) throws SyscallException;

  /** fchmodat(2) of {@code name}, which the caller knows is not a symlink. */
  void chmodat(Fd dir, String name, int mode) throws SyscallException;

  /** mknodat(2) of a FIFO or device; {@code mode} carries the type bits. */
  void mknodat(Fd dir, String name, int mode, int major, int minor) throws SyscallException;

  /** Sets the access and modification times of {@code name} itself to {@code nanos}. */
  void lutimesat(Fd dir, String name, long nanos) throws SyscallException;

  FsStat fstatfs(Fd fd) throws SyscallException;

  void lsetxattrAt(Fd dir, String name, String key, byte[] value) throws SyscallException;

  List<String> llistxattrAt(Fd dir, String name) throws SyscallException;

  byte[] lgetxattrAt(Fd dir, String name, String key) throws SyscallException;

  /**
   * Copies all of {@code in} to {@code out}, from and to their offsets: in the kernel where it can
   * (copy_file_range), else through a buffer.
   */
  void copyContent(Fd in, Fd out) throws SyscallException;

  /** Writes {@code length} bytes of {@code bytes} from index {@code from} at {@code offset}. */
  void pwrite(Fd fd, byte[] bytes, int from, int length, long offset) throws SyscallException;

  /** Writes {@code length} bytes of {@code bytes} at {@code offset}, all of them. */
  void pwrite(Fd fd, byte[] bytes, int length, long offset) throws SyscallException;

  void fchown(Fd fd, int uid, int gid) throws SyscallException;

  /** Sets the size of an open file; growing it adds a hole. */
  void ftruncate(Fd fd, long length) throws SyscallException;

  void fchmod(Fd fd, int mode) throws SyscallException;

  /** Sets the access and modification times of an open file to {@code nanos}. */
  void futimes(Fd fd, long nanos) throws SyscallException;

  void fsetxattr(Fd fd, String name, byte[] value) throws SyscallException;

  /** chmod of a path known not to be a symlink (Linux cannot chmod a symlink itself). */
  void chmod(Path path, int mode) throws SyscallException;

  /** The target of symlink {@code link}, byte for byte. */
  String readlink(Path link) throws SyscallException;

  /** The names of {@code path}'s own xattrs. */
  List<String> llistxattr(Path path) throws SyscallException;

  void lsetxattr(Path path, String name, byte[] value) throws SyscallException;

  /** The whole value of xattr {@code name} of {@code path} itself. */
  byte[] lgetxattr(Path path, String name) throws SyscallException;

  /** lgetxattr(2) into a buffer of {@code max} bytes; returns the value's bytes. */
  byte[] lgetxattr(Path path, String name, int max) throws SyscallException;

  /**
   * The {@code d_type} that readdir(3) reports for each entry of {@code dir} ({@code DT_UNKNOWN} =
   * 0 where the filesystem does not fill it in, which overlayfs cannot work with).
   */
  Map<String, Integer> directoryEntryTypes(Path dir) throws SyscallException;
}
