package io.strata.sys;

import java.nio.file.Path;

/**
 * An attached loop device, held open: {@link Syscalls#attachLoopDevice} set it to detach itself
 * when its last user goes, so closing this before anything is mounted on it detaches it.
 */
public final class LoopDevice implements AutoCloseable {
  private final Fd handle;
  private final Path path;

  LoopDevice(Fd handle, Path path) {
    this.handle = handle;
    this.path = path;
  }

  /** The device node, {@code /dev/loopN}: the source to mount. */
  public Path path() {
    return path;
  }

  @Override
  public void close() throws SyscallException {
    handle.close();
  }
}
