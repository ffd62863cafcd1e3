package io.strata.sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * {@link Syscalls} on Linux, through jnr-ffi's binding of {@link LibC}: every failure becomes a
 * {@link SyscallException} naming the call, the path and errno. The raw calls that take flags are
 * package-private: the rest of Strata asks for what it means ({@link Syscalls}), and only this
 * package's tests reach below that.
 */
final class LinuxSyscalls implements Syscalls {
  static final LinuxSyscalls INSTANCE = new LinuxSyscalls(true);

  private final LibC libc;
  private final Runtime runtime;
  private final boolean useOpenat2;

  LinuxSyscalls(boolean useOpenat2) {
    this.libc = LibraryLoader.create(LibC.class).load("c");
    this.runtime = Runtime.getRuntime(libc);
    this.useOpenat2 = useOpenat2;
  }

  // ---- descriptors

  /** open(2); always close-on-exec. */
  Fd open(Path path, int flags, int mode) throws SyscallException {
    String name = path.toString();
    return new Fd(
        this, check(libc.open(name, flags | LibC.O_CLOEXEC, mode), "open", path), null, name);
  }

  /** openat(2) of {@code name} relative to {@code dir}; always close-on-exec. */
  Fd openat(Fd dir, String name, int flags, int mode) throws SyscallException {
    int fd = libc.openat(dir.value(), name, flags | LibC.O_CLOEXEC, mode);
    return new Fd(this, check(fd, "openat", describe(dir, name)), dir, name);
  }

  /**
   * Opens {@code relative} beneath {@code dir} without ever leaving it: no symlink is followed, no
   * {@code ..} escapes and, with {@link LibC#RESOLVE_NO_XDEV}, no mount is crossed. Uses openat2(2)
   * with {@code RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS}; where the kernel lacks
   * it, walks component by component with {@code O_NOFOLLOW} and compares mount ids.
   */
  Fd openBeneath(Fd dir, String relative, int flags, long extraResolve) throws SyscallException {
    long resolve =
        LibC.RESOLVE_BENEATH | LibC.RESOLVE_NO_SYMLINKS | LibC.RESOLVE_NO_MAGICLINKS | extraResolve;
    if (useOpenat2) {
      byte[] how = new byte[24];
      ByteBuffer.wrap(how)
          .order(ByteOrder.nativeOrder())
          .putLong((flags | LibC.O_CLOEXEC) & 0xffffffffL)
          .putLong(0)
          .putLong(resolve);
      long fd = libc.syscall(LibC.SYS_OPENAT2, dir.value(), relative, how, how.length);
      if (fd >= 0) {
        return new Fd(this, (int) fd, dir, relative);
      }
      int errno = runtime.getLastError();
      if (errno != Errno.ENOSYS.intValue()) {
        throw new SyscallException("openat2", describe(dir, relative), errno);
      }
    }
    return BeneathWalk.walk(this, dir, relative, flags, (extraResolve & LibC.RESOLVE_NO_XDEV) != 0);
  }

  @Override
  public long mountId(Fd fd) throws SyscallException {
    return ProcFs.mountId(fd.value());
  }

  void close(int fd) throws SyscallException {
    check(libc.close(fd), "close", "fd " + fd);
  }

  @Override
  public boolean tryLockExclusive(Fd fd, Path path) throws SyscallException {
    if (libc.flock(fd.value(), LibC.LOCK_EX | LibC.LOCK_NB) == 0) {
      return true;
    }
    int errno = runtime.getLastError();
    if (errno == Errno.EWOULDBLOCK.intValue()) {
      return false;
    }
    throw new SyscallException("flock", path.toString(), errno);
  }

  // ---- files and directories

  @Override
  public boolean mkdirat(Fd dir, String name, int mode) throws SyscallException {
    if (libc.mkdirat(dir.value(), name, mode) == 0) {
      return true;
    }
    int errno = runtime.getLastError();
    if (errno == Errno.EEXIST.intValue()) {
      return false;
    }
    throw new SyscallException("mkdirat", describe(dir, name), errno);
  }

  @Override
  public void unlinkat(Fd dir, String name, boolean directory) throws SyscallException {
    check(
        libc.unlinkat(dir.value(), name, directory ? LibC.AT_REMOVEDIR : 0),
        "unlinkat",
        describe(dir, name));
  }

  @Override
  public FileStat lstatat(Fd dir, String name) throws SyscallException {
    byte[] buf = new byte[FileStat.SIZE];
    check(
        libc.fstatat(dir.value(), name, buf, LibC.AT_SYMLINK_NOFOLLOW),
        "fstatat",
        describe(dir, name));
    return FileStat.decode(buf);
  }

  @Override
  public FileStat lstat(Path path) throws SyscallException {
    byte[] buf = new byte[FileStat.SIZE];
    check(
        libc.fstatat(LibC.AT_FDCWD, path.toString(), buf, LibC.AT_SYMLINK_NOFOLLOW),
        "fstatat",
        path);
    return FileStat.decode(buf);
  }

  @Override
  public FileStat fstat(Fd fd) throws SyscallException {
    byte[] buf = new byte[FileStat.SIZE];
    check(
        libc.fstatat(fd.value(), "", buf, LibC.AT_EMPTY_PATH | LibC.AT_SYMLINK_NOFOLLOW),
        "fstat",
        fd.describe());
    return FileStat.decode(buf);
  }

  @Override
  public FsStat statfs(Path path) throws SyscallException {
    byte[] buf = new byte[FsStat.SIZE];
    check(libc.statfs(path.toString(), buf), "statfs", path);
    return FsStat.decode(buf);
  }

  @Override
  public void fsync(Fd fd) throws SyscallException {
    check(libc.fsync(fd.value()), "fsync", fd.describe());
  }

  @Override
  public boolean stderrIsTerminal() {
    return libc.isatty(2) == 1;
  }

  @Override
  public void syncfs(Fd fd) throws SyscallException {
    check(libc.syncfs(fd.value()), "syncfs", fd.describe());
  }

  void renameat2(Fd fromDir, String from, Fd toDir, String to, int flags) throws SyscallException {
    check(
        libc.renameat2(fromDir.value(), from, toDir.value(), to, flags),
        "renameat2",
        describe(fromDir, from) + " -> " + describe(toDir, to));
  }

  @Override
  public void mknodat(Fd dir, String name, int mode, long dev) throws SyscallException {
    check(libc.mknodat(dir.value(), name, mode, dev), "mknodat", describe(dir, name));
  }

  @Override
  public void lchownat(Fd dir, String name, int uid, int gid) throws SyscallException {
    check(
        libc.fchownat(dir.value(), name, uid, gid, LibC.AT_SYMLINK_NOFOLLOW),
        "fchownat",
        describe(dir, name));
  }

  @Override
  public void lutimensat(Fd dir, String name, long atimeNanos, long mtimeNanos)
      throws SyscallException {
    long[] times = {
      Math.floorDiv(atimeNanos, 1_000_000_000L), Math.floorMod(atimeNanos, 1_000_000_000L),
      Math.floorDiv(mtimeNanos, 1_000_000_000L), Math.floorMod(mtimeNanos, 1_000_000_000L)
    };
    check(
        libc.utimensat(dir.value(), name, times, LibC.AT_SYMLINK_NOFOLLOW),
        "utimensat",
        describe(dir, name));
  }

  // ---- opening by intent

  @Override
  public Fd openDirectoryHandle(Path path) throws SyscallException {
    return open(path, LibC.O_PATH | LibC.O_DIRECTORY, 0);
  }

  @Override
  public Fd openDirectoryBeneathAcrossMounts(Fd dir, String relative) throws SyscallException {
    return openBeneath(dir, relative, LibC.O_PATH | LibC.O_DIRECTORY, 0);
  }

  @Override
  public Fd openForReading(Path path) throws SyscallException {
    return open(path, LibC.O_RDONLY, 0);
  }

  @Override
  public Fd openLockFile(Path path) throws SyscallException {
    return open(path, LibC.O_RDWR | LibC.O_CREAT | LibC.O_NOFOLLOW, 0600);
  }

  // ---- renames

  @Override
  public void rename(Fd fromDir, String from, Fd toDir, String to) throws SyscallException {
    renameat2(fromDir, from, toDir, to, 0);
  }

  @Override
  public void renameNoReplace(Fd fromDir, String from, Fd toDir, String to)
      throws SyscallException {
    renameat2(fromDir, from, toDir, to, LibC.RENAME_NOREPLACE);
  }

  @Override
  public void renameExchange(Fd dir, String a, String b) throws SyscallException {
    renameat2(dir, a, dir, b, LibC.RENAME_EXCHANGE);
  }

  @Override
  public void renameWhiteout(Fd dir, String from, String to) throws SyscallException {
    renameat2(dir, from, dir, to, LibC.RENAME_WHITEOUT);
  }

  // ---- mounts

  @Override
  public void mount(
      String source, String target, String type, Set<MountOption> options, String data)
      throws SyscallException {
    mount(source, target, type, MountOption.flags(options), data);
  }

  @Override
  public void unmount(Path target) throws SyscallException {
    umount2(target, 0);
  }

  @Override
  public void unmountNoFollow(String target) throws SyscallException {
    umount2(target, LibC.UMOUNT_NOFOLLOW);
  }

  // ---- names beneath an open directory: only the last component is looked up, never followed

  @Override
  public Fd openDirectory(Path path) throws SyscallException {
    return open(path, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW, 0);
  }

  @Override
  public Fd openDirectoryAt(Fd dir, String name) throws SyscallException {
    return openat(dir, name, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW, 0);
  }

  @Override
  public Fd openDirectoryBeneath(Fd dir, String relative) throws SyscallException {
    if (relative.isEmpty() || relative.equals(".")) {
      return openat(dir, ".", LibC.O_PATH | LibC.O_DIRECTORY, 0);
    }
    return openBeneath(dir, relative, LibC.O_PATH | LibC.O_DIRECTORY, LibC.RESOLVE_NO_XDEV);
  }

  @Override
  public FileStat lstatatIfExists(Fd dir, String name) throws SyscallException {
    byte[] buf = new byte[FileStat.SIZE];
    if (libc.fstatat(dir.value(), name, buf, LibC.AT_SYMLINK_NOFOLLOW) < 0) {
      int errno = runtime.getLastError();
      if (errno == Errno.ENOENT.intValue()) {
        return null;
      }
      throw new SyscallException("fstatat", describe(dir, name), errno);
    }
    return FileStat.decode(buf);
  }

  @Override
  public List<String> list(Fd dir) throws SyscallException {
    Fd own = openat(dir, ".", LibC.O_RDONLY | LibC.O_DIRECTORY, 0); // fdopendir takes it over
    Pointer handle = libc.fdopendir(own.value());
    if (handle == null) {
      int errno = runtime.getLastError();
      own.close();
      throw new SyscallException("fdopendir", dir.describe(), errno);
    }
    own.handedOver();
    try {
      List<String> names = new ArrayList<>();
      for (Pointer entry = libc.readdir(handle); entry != null; entry = libc.readdir(handle)) {
        String name = entry.getString(DIRENT_NAME_OFFSET);
        if (!name.equals(".") && !name.equals("..")) {
          names.add(name);
        }
      }
      return names;
    } finally {
      libc.closedir(handle);
    }
  }

  @Override
  public Fd createNewAt(Fd dir, String name, int mode) throws SyscallException {
    int fd =
        libc.openat(
            dir.value(),
            name,
            LibC.O_WRONLY | LibC.O_CREAT | LibC.O_EXCL | LibC.O_NOFOLLOW | LibC.O_CLOEXEC,
            mode);
    if (fd < 0) {
      int errno = runtime.getLastError();
      if (errno == Errno.EEXIST.intValue()) {
        return null;
      }
      throw new SyscallException("openat", describe(dir, name), errno);
    }
    return new Fd(this, fd, dir, name);
  }

  @Override
  public Fd openFileAt(Fd dir, String name) throws SyscallException {
    return openat(dir, name, LibC.O_RDONLY | LibC.O_NOFOLLOW, 0);
  }

  @Override
  public boolean symlinkatIfAbsent(String target, Fd dir, String name) throws SyscallException {
    if (libc.symlinkat(target, dir.value(), name) == 0) {
      return true;
    }
    int errno = runtime.getLastError();
    if (errno == Errno.EEXIST.intValue()) {
      return false;
    }
    throw new SyscallException("symlinkat", describe(dir, name), errno);
  }

  @Override
  public void symlinkat(String target, Fd dir, String name) throws SyscallException {
    check(libc.symlinkat(target, dir.value(), name), "symlinkat", describe(dir, name));
  }

  @Override
  public String readlinkat(Fd dir, String name) throws SyscallException {
    byte[] buf = new byte[4097];
    long n = libc.readlinkat(dir.value(), name, buf, buf.length);
    if (n < 0) {
      throw new SyscallException("readlinkat", describe(dir, name), runtime.getLastError());
    }
    return new String(buf, 0, (int) n, StandardCharsets.UTF_8);
  }

  @Override
  public void linkat(Fd fromDir, String from, Fd toDir, String to) throws SyscallException {
    check(
        libc.linkat(fromDir.value(), from, toDir.value(), to, 0),
        "linkat",
        describe(fromDir, from) + " -> " + describe(toDir, to));
  }

  @Override
  public void chmodat(Fd dir, String name, int mode) throws SyscallException {
    check(libc.fchmodat(dir.value(), name, mode, 0), "fchmodat", describe(dir, name));
  }

  @Override
  public void mknodat(Fd dir, String name, int mode, int major, int minor) throws SyscallException {
    mknodat(dir, name, mode, makedev(major, minor));
  }

  @Override
  public void lutimesat(Fd dir, String name, long nanos) throws SyscallException {
    lutimensat(dir, name, nanos, nanos);
  }

  @Override
  public LoopDevice attachLoopDevice(Path image) throws SyscallException {
    try (Fd control = open(Path.of("/dev/loop-control"), LibC.O_RDWR, 0);
        Fd file = open(image, LibC.O_RDWR | LibC.O_NOFOLLOW, 0)) {
      byte[] config = new byte[LOOP_CONFIG_SIZE];
      ByteBuffer struct = ByteBuffer.wrap(config).order(ByteOrder.nativeOrder());
      struct.putInt(0, file.value()); // loop_config.fd; block_size 0: the default
      struct.putInt(LOOP_CONFIG_FLAGS, LibC.LO_FLAGS_AUTOCLEAR);
      for (int attempt = 0; ; attempt++) {
        int number =
            check(
                libc.ioctl(control.value(), LibC.LOOP_CTL_GET_FREE, 0L),
                "ioctl(LOOP_CTL_GET_FREE)",
                "/dev/loop-control");
        Path device = Path.of("/dev/loop" + number);
        int made =
            libc.mknodat(
                LibC.AT_FDCWD,
                device.toString(),
                LibC.S_IFBLK | 0660,
                makedev(LibC.LOOP_MAJOR, number));
        if (made != 0 && runtime.getLastError() != Errno.EEXIST.intValue()) {
          throw new SyscallException("mknod", device.toString(), runtime.getLastError());
        }
        Fd loop = open(device, LibC.O_RDWR, 0);
        if (libc.ioctl(loop.value(), LibC.LOOP_CONFIGURE, config) == 0) {
          return new LoopDevice(loop, device);
        }
        int errno = runtime.getLastError();
        loop.close();
        // Another process took the free device between the two calls: ask again.
        if (errno != Errno.EBUSY.intValue() || attempt == 20) {
          throw new SyscallException("ioctl(LOOP_CONFIGURE)", device + " with " + image, errno);
        }
      }
    }
  }

  /** sizeof(struct loop_config), and where its loop_info64.lo_flags lies. */
  private static final int LOOP_CONFIG_SIZE = 304;

  private static final int LOOP_CONFIG_FLAGS = 8 + 52;

  @Override
  public FsStat fstatfs(Fd fd) throws SyscallException {
    byte[] buf = new byte[FsStat.SIZE];
    check(libc.fstatfs(fd.value(), buf), "fstatfs", fd.describe());
    return FsStat.decode(buf);
  }

  /*
   * Linux has no xattr call relative to a directory descriptor before 6.13, so these name the
   * entry as /proc/self/fd/<dir>/<name>: the kernel jumps through the descriptor's magic link to
   * the directory it holds, and looks up only <name> there, not following it.
   */

  @Override
  public void lsetxattrAt(Fd dir, String name, String key, byte[] value) throws SyscallException {
    lsetxattr(beneath(dir, name), key, value);
  }

  @Override
  public List<String> llistxattrAt(Fd dir, String name) throws SyscallException {
    return llistxattr(beneath(dir, name));
  }

  @Override
  public byte[] lgetxattrAt(Fd dir, String name, String key) throws SyscallException {
    return lgetxattr(beneath(dir, name), key);
  }

  private static Path beneath(Fd dir, String name) {
    if (name.isEmpty() || name.indexOf('/') >= 0) {
      throw new IllegalArgumentException("not one name: " + name);
    }
    return Path.of(dir.procPath(), name);
  }

  @Override
  public void copyContent(Fd in, Fd out) throws SyscallException {
    while (true) {
      long n = libc.copy_file_range(in.value(), null, out.value(), null, 1L << 30, 0);
      if (n == 0) {
        return;
      }
      if (n < 0) {
        int errno = runtime.getLastError();
        if (errno == Errno.EXDEV.intValue()
            || errno == Errno.EINVAL.intValue()
            || errno == Errno.ENOSYS.intValue()
            || errno == Errno.EOPNOTSUPP.intValue()) {
          break;
        }
        throw new SyscallException("copy_file_range", in.describe(), errno);
      }
    }
    byte[] buffer = new byte[64 << 10];
    long at = fstat(out).size();
    for (long n; (n = libc.read(in.value(), buffer, buffer.length)) != 0; at += n) {
      if (n < 0) {
        throw new SyscallException("read", in.describe(), runtime.getLastError());
      }
      pwrite(out, buffer, (int) n, at);
    }
  }

  private static String describe(Fd dir, String name) {
    return dir.describe() + "/" + name;
  }

  // ---- a file being written: metadata through its descriptor, no path walked again

  @Override
  public void pwrite(Fd fd, byte[] bytes, int from, int length, long offset)
      throws SyscallException {
    // Only sparse files write from inside a buffer; they pay for one copy of that run.
    pwrite(fd, from == 0 ? bytes : Arrays.copyOfRange(bytes, from, from + length), length, offset);
  }

  @Override
  public void pwrite(Fd fd, byte[] bytes, int length, long offset) throws SyscallException {
    byte[] rest = bytes;
    int left = length;
    long at = offset;
    while (left > 0) {
      long n = libc.pwrite(fd.value(), rest, left, at);
      if (n < 0) {
        throw new SyscallException("pwrite", fd.describe(), runtime.getLastError());
      }
      left -= (int) n;
      at += n;
      if (left > 0) {
        rest = Arrays.copyOfRange(rest, (int) n, (int) n + left);
      }
    }
  }

  @Override
  public void fchown(Fd fd, int uid, int gid) throws SyscallException {
    check(libc.fchown(fd.value(), uid, gid), "fchown", fd.describe());
  }

  @Override
  public void ftruncate(Fd fd, long length) throws SyscallException {
    check(libc.ftruncate(fd.value(), length), "ftruncate", fd.describe());
  }

  @Override
  public void fchmod(Fd fd, int mode) throws SyscallException {
    check(libc.fchmod(fd.value(), mode), "fchmod", fd.describe());
  }

  @Override
  public void futimes(Fd fd, long nanos) throws SyscallException {
    long seconds = Math.floorDiv(nanos, 1_000_000_000L);
    long rest = Math.floorMod(nanos, 1_000_000_000L);
    check(
        libc.futimens(fd.value(), new long[] {seconds, rest, seconds, rest}),
        "futimens",
        fd.describe());
  }

  @Override
  public void fsetxattr(Fd fd, String name, byte[] value) throws SyscallException {
    check(libc.fsetxattr(fd.value(), name, value, value.length, 0), "fsetxattr", name);
  }

  // ---- path-based metadata, for trees only Strata writes (staging): no symlink is followed

  @Override
  public void chmod(Path path, int mode) throws SyscallException {
    check(libc.fchmodat(LibC.AT_FDCWD, path.toString(), mode, 0), "fchmodat", path);
  }

  @Override
  public String readlink(Path link) throws SyscallException {
    byte[] buf = new byte[4097];
    long n = libc.readlinkat(LibC.AT_FDCWD, link.toString(), buf, buf.length);
    if (n < 0) {
      throw new SyscallException("readlinkat", link.toString(), runtime.getLastError());
    }
    return new String(buf, 0, (int) n, StandardCharsets.UTF_8);
  }

  /** glibc's makedev(3). */
  static long makedev(long major, long minor) {
    return ((major & 0xfffff000L) << 32)
        | ((major & 0xfffL) << 8)
        | ((minor & 0xffffff00L) << 12)
        | (minor & 0xffL);
  }

  @Override
  public List<String> llistxattr(Path path) throws SyscallException {
    long size = libc.llistxattr(path.toString(), null, 0);
    if (size < 0) {
      throw new SyscallException("llistxattr", path.toString(), runtime.getLastError());
    }
    if (size == 0) {
      return List.of();
    }
    byte[] names = new byte[(int) size];
    size = libc.llistxattr(path.toString(), names, names.length);
    if (size < 0) {
      throw new SyscallException("llistxattr", path.toString(), runtime.getLastError());
    }
    List<String> out = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < size; i++) {
      if (names[i] == 0) {
        out.add(new String(names, start, i - start, StandardCharsets.UTF_8));
        start = i + 1;
      }
    }
    return out;
  }

  @Override
  public void lsetxattr(Path path, String name, byte[] value) throws SyscallException {
    check(libc.lsetxattr(path.toString(), name, value, value.length, 0), "lsetxattr", path);
  }

  @Override
  public byte[] lgetxattr(Path path, String name) throws SyscallException {
    long size = libc.lgetxattr(path.toString(), name, null, 0);
    if (size < 0) {
      throw new SyscallException("lgetxattr", path + " " + name, runtime.getLastError());
    }
    return lgetxattr(path, name, (int) size);
  }

  @Override
  public byte[] lgetxattr(Path path, String name, int max) throws SyscallException {
    byte[] buffer = new byte[max];
    long size = libc.lgetxattr(path.toString(), name, buffer, buffer.length);
    if (size < 0) {
      throw new SyscallException("lgetxattr", path + " " + name, runtime.getLastError());
    }
    return Arrays.copyOf(buffer, (int) size);
  }

  @Override
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

  // ---- mounts

  /** mount(2); {@code target} may be a descriptor's {@link Fd#procPath()}. */
  void mount(String source, String target, String type, long flags, String data)
      throws SyscallException {
    check(libc.mount(source, target, type, flags, data), "mount", target);
  }

  /** umount2(2); {@code target} may be a descriptor's {@link Fd#procPath()}. */
  void umount2(String target, int flags) throws SyscallException {
    check(libc.umount2(target, flags), "umount2", target);
  }

  void umount2(Path target, int flags) throws SyscallException {
    umount2(target.toString(), flags);
  }

  private int check(int result, String syscall, Path path) throws SyscallException {
    return check(result, syscall, path.toString());
  }

  /** {@code what} names the file (a path, or {@link Fd#describe()}) for the message. */
  private int check(int result, String syscall, String what) throws SyscallException {
    if (result < 0) {
      throw new SyscallException(syscall, what, runtime.getLastError());
    }
    return result;
  }
}
