package io.strata.sys;

/** An open file descriptor, closed exactly once, and what it was opened as, for messages. */
public final class Fd implements AutoCloseable {
  private final LinuxSyscalls sys;
  private final int value;
  private final Fd dir;
  private final String name;
  private boolean closed;

  /** {@code name} is a path, or, when {@code dir} is not null, a name relative to {@code dir}. */
  Fd(LinuxSyscalls sys, int value, Fd dir, String name) {
    this.sys = sys;
    this.value = value;
    this.dir = dir;
    this.name = name;
  }

  /**
   * The descriptor's number; refused once closed, since the kernel hands the number to the next
   * open and a call through it would reach whatever that opened.
   */
  public int value() {
    if (closed) {
      throw new IllegalStateException(describe() + " is closed");
    }
    return value;
  }

  /**
   * The path it was opened by, as an error message names it (a failed sync or write says which
   * file); composed only when asked, so opening costs no string.
   */
  public String describe() {
    return dir == null ? name : dir.describe() + "/" + name;
  }

  /** The descriptor's magic link, through which mount(2) can reach the very inode it holds. */
  public String procPath() {
    return ProcFs.fdLink(value());
  }

  @Override
  public void close() throws SyscallException {
    if (!closed) {
      closed = true;
      sys.close(value);
    }
  }

  /** Something else (closedir, say) closes the descriptor now: this never will. */
  void handedOver() {
    closed = true;
  }

  public boolean isClosed() {
    return closed;
  }
}
