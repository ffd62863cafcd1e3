package io.strata.sys;

/**
 * Resolving a path beneath a directory as kernels before 5.6 must, without openat2(2): one
 * component at a time with {@code O_NOFOLLOW}, refusing a symlink, an empty name, {@code .} or
 * {@code ..}, and (when asked) a change of mount id on the way.
 */
final class BeneathWalk {
  private BeneathWalk() {}

  static Fd walk(LinuxSyscalls sys, Fd dir, String relative, int flags, boolean noXdev)
      throws SyscallException {
    String[] names = relative.split("/");
    long mountId = noXdev ? sys.mountId(dir) : -1;
    Fd current = dir;
    try {
      for (int i = 0; i < names.length; i++) {
        String name = names[i];
        if (name.isEmpty() || name.equals(".") || name.equals("..")) {
          throw new SyscallException("openat", relative, Errno.EXDEV.intValue());
        }
        boolean last = i == names.length - 1;
        int stepFlags = last ? flags : LibC.O_PATH | LibC.O_DIRECTORY;
        Fd next = sys.openat(current, name, stepFlags | LibC.O_NOFOLLOW, 0);
        if (current != dir) {
          current.close();
        }
        current = next;
        if (sys.fstat(current).isSymlink()) { // O_PATH|O_NOFOLLOW opens the link itself
          throw new SyscallException("openat", relative, Errno.ELOOP.intValue());
        }
        if (noXdev && sys.mountId(current) != mountId) {
          throw new SyscallException("openat", relative, Errno.EXDEV.intValue());
        }
      }
      Fd result = current;
      current = dir; // handed over
      return result;
    } finally {
      if (current != dir) {
        current.close();
      }
    }
  }
}
