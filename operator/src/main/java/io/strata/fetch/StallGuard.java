package io.strata.fetch;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Gives up on a response body that sends nothing for too long. A request's timeout covers only the
 * wait for its headers; a server that then stalls would hold a fetch worker for good. The guard
 * closes the body from a timer thread, which ends the read blocked on it, and the reader then
 * reports the stall instead of whatever the closed stream said.
 */
final class StallGuard implements AutoCloseable {
  private static final ScheduledExecutorService TIMER =
      Executors.newSingleThreadScheduledExecutor(
          runnable -> {
            Thread thread = new Thread(runnable, "strata-fetch-stall");
            thread.setDaemon(true);
            return thread;
          });

  private final InputStream body;
  private final Duration timeout;
  private final ScheduledFuture<?> checks;
  private volatile long lastProgress = System.nanoTime();
  private volatile boolean stalled;

  private StallGuard(InputStream body, Duration timeout) {
    this.body = body;
    this.timeout = timeout;
    long period = Math.clamp(timeout.toMillis() / 4, 10, 1_000);
    this.checks = TIMER.scheduleAtFixedRate(this::check, period, period, TimeUnit.MILLISECONDS);
  }

  static StallGuard watch(InputStream body, Duration timeout) {
    return new StallGuard(body, timeout);
  }

  /** Bytes arrived. */
  void progressed() {
    lastProgress = System.nanoTime();
  }

  private void check() {
    if (System.nanoTime() - lastProgress > timeout.toNanos()) {
      stalled = true;
      checks.cancel(false);
      try {
        body.close();
      } catch (IOException e) {
        // closing is all there is to do; the reader reports the stall
      }
    }
  }

  void throwIfStalled(URI from, long bytes) throws IOException {
    if (stalled) {
      throw new IOException(
          from + " sent nothing for " + timeout.toMillis() + " ms after " + bytes + " bytes");
    }
  }

  @Override
  public void close() {
    checks.cancel(false);
  }
}
