package io.strata.sys;

import java.io.IOException;

/** A failed system call: names the call, the path(s) it acted on and the errno. */
public class SyscallException extends IOException {
  private final String syscall;
  private final int errno;

  public SyscallException(String syscall, String path, int errno) {
    super(syscall + "(" + path + "): " + describe(errno));
    this.syscall = syscall;
    this.errno = errno;
  }

  public String syscall() {
    return syscall;
  }

  public int errno() {
    return errno;
  }

  /** Whether this failed with the given errno, e.g. {@code is(Errno.EBUSY)}. */
  public boolean is(Errno expected) {
    return expected.intValue() == errno;
  }

  static String describe(int errno) {
    return Errno.describe(errno);
  }
}
