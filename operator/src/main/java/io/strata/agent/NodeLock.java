package io.strata.agent;

import io.strata.layout.NodeLayout;
import io.strata.sys.Fd;
import io.strata.sys.SyscallException;
import io.strata.sys.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One agent per node at a time: an exclusive {@code flock(2)} on {@code <state>/.lock}, held for
 * the life of the process and released by the kernel when it exits, however it exits. During a
 * rolling update whose pods overlap, the newer agent waits here until the older one is gone.
 */
public final class NodeLock implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeLock.class);

  private final Path path;
  private final Fd fd;

  private NodeLock(Path path, Fd fd) {
    this.path = path;
    this.fd = fd;
  }

  /** Blocks until this process holds the lock. */
  public static NodeLock acquire(Path stateDir, Duration poll)
      throws IOException, InterruptedException {
    Files.createDirectories(stateDir);
    Path path = stateDir.resolve(NodeLayout.LOCK_FILE);
    Syscalls sys = Syscalls.get();
    Fd fd = sys.openLockFile(path);
    try {
      boolean said = false;
      while (!sys.tryLockExclusive(fd, path)) {
        if (!said) {
          log.warn("another agent holds {}; waiting for it to exit", path);
          said = true;
        }
        Thread.sleep(poll.toMillis());
      }
      log.info("holding {}", path);
      return new NodeLock(path, fd);
    } catch (IOException | InterruptedException | RuntimeException e) {
      fd.close();
      throw e;
    }
  }

  public Path path() {
    return path;
  }

  @Override
  public void close() throws SyscallException {
    fd.close(); // closing the only descriptor releases the flock
  }
}
