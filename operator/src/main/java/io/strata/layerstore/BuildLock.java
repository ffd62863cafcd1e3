package io.strata.layerstore;

import io.strata.sys.Errno;
import io.strata.sys.Fd;
import io.strata.sys.SyscallException;
import io.strata.sys.Syscalls;
import java.nio.file.Path;

/**
 * An flock on {@code staging/<key>.lock}: one build of a chain at a time across processes (the
 * agent and a {@code strata materialize} may run together), and proof at start-up that a leftover
 * build is nobody's.
 */
final class BuildLock implements AutoCloseable {
  private final Fd fd;

  private BuildLock(Fd fd) {
    this.fd = fd;
  }

  static BuildLock acquire(Syscalls sys, Path file) throws SyscallException {
    while (true) {
      BuildLock lock = tryAcquire(sys, file);
      if (lock != null) {
        return lock;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new SyscallException("flock", file.toString(), Errno.EINTR.intValue());
      }
    }
  }

  /** The lock, or null when another open file description holds it. */
  static BuildLock tryAcquire(Syscalls sys, Path file) throws SyscallException {
    Fd fd = sys.openLockFile(file);
    if (sys.tryLockExclusive(fd, file)) {
      return new BuildLock(fd);
    }
    fd.close();
    return null;
  }

  @Override
  public void close() throws SyscallException {
    fd.close();
  }
}
