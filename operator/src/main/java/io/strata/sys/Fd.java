package io.strata.sys;

/** An open file descriptor, closed exactly once. */
public final class Fd implements AutoCloseable {
  private final Syscalls sys;
  private final int value;
  private boolean closed;

  Fd(Syscalls sys, int value) {
    this.sys = sys;
    this.value = value;
  }

  public int value() {
    return value;
  }

  /** The descriptor's magic link, through which mount(2) can reach the very inode it holds. */
  public String procPath() {
    return "/proc/self/fd/" + value;
  }

  @Override
  public void close() throws SyscallException {
    if (!closed) {
      closed = true;
      sys.close(value);
    }
  }
}
