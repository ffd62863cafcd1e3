package io.strata.layerstore;

import io.strata.sys.Fd;
import io.strata.sys.Syscalls;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A {@code syncfs} of a build's filesystem on a thread of its own, beside the work that made the
 * data. While a build goes on it writes its files to disk, so the sync that publishes the root has
 * only the tail left to write. Left to itself, the kernel starts writing dirty pages back only
 * after half a minute or once they pass a share of memory (on a node with gigabytes free, a whole
 * layer stays in memory): the disk would then idle while a layer is applied and everything wait on
 * it at the end. The publishing sync runs on one too, while the root is counted.
 *
 * <p>Each {@link #request()} asks for a sync, run one at a time; requests made while one runs fold
 * into the next. The first request starts the thread, so a small build starts none before it
 * publishes. A failure is kept and thrown by the next request and by {@link #finish()}: the kernel
 * reports a writeback error once to each open file, so a later sync through another descriptor may
 * not see it again.
 */
final class Writeback implements AutoCloseable {
  private final Syscalls sys;
  private final Path dir;
  private final String threadName;
  private Thread thread; // guarded by this, as are the three below
  private boolean requested;
  private boolean closed;
  private IOException failed;

  /** Syncs of the filesystem that holds {@code dir}, which stays open while they run. */
  Writeback(Syscalls sys, Path dir, String threadName) {
    this.sys = sys;
    this.dir = dir;
    this.threadName = threadName;
  }

  /** Asks for a sync soon; throws what an earlier one failed with. */
  synchronized void request() throws IOException {
    throwIfFailed();
    if (closed) {
      return;
    }
    if (thread == null) {
      thread = Thread.ofPlatform().name(threadName).daemon().start(this::run);
    }
    requested = true;
    notifyAll();
  }

  /** Runs the sync asked for, if any, waits for it, and throws what any sync failed with. */
  void finish() throws IOException {
    stop(true);
    synchronized (this) {
      throwIfFailed();
    }
  }

  /** Starts no more syncs and waits for the one in flight: the build's directory may go next. */
  @Override
  public void close() {
    stop(false);
  }

  private void stop(boolean runRequested) {
    Thread running;
    synchronized (this) {
      closed = true;
      requested &= runRequested;
      notifyAll();
      running = thread;
    }
    if (running == null) {
      return;
    }
    boolean interrupted = false;
    while (running.isAlive()) {
      try {
        running.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    try (Fd fd = sys.openDirectory(dir)) {
      while (nextRequest()) {
        sys.syncfs(fd);
      }
    } catch (IOException e) {
      synchronized (this) {
        failed = e;
      }
    }
  }

  /** Waits for a request; false once closed with none left to run. */
  private synchronized boolean nextRequest() {
    while (!requested && !closed) {
      try {
        wait();
      } catch (InterruptedException e) {
        return false; // nobody interrupts this thread
      }
    }
    boolean run = requested;
    requested = false;
    return run;
  }

  /**
   * Once the build has failed: waits for the sync in flight, then throws what a writeback failed
   * with, if one did, with {@code later} suppressed in it. Once the disk has failed, what fails
   * after it (a write to a filesystem the failure made read-only, say) is its consequence.
   */
  void throwFailureBehind(Exception later) throws IOException {
    close();
    synchronized (this) {
      if (failed == null) {
        return;
      }
      for (Throwable t = later; t != null; t = t.getCause()) {
        if (t == failed) {
          return; // it is the failure, as a request or finish threw it
        }
      }
      failed.addSuppressed(later);
      throw failed;
    }
  }

  private void throwIfFailed() throws IOException {
    if (failed != null) {
      throw failed;
    }
  }
}
