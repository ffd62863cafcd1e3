package io.strata.testing;

import java.time.Duration;

/** Retries an assertion until it holds or time runs out, then rethrows its last failure. */
public final class Eventually {
  private Eventually() {}

  /** An assertion that may throw anything while the system converges. */
  @FunctionalInterface
  public interface Check {
    void run() throws Exception;
  }

  public static void within(Duration timeout, Check check) {
    within(timeout, Duration.ofMillis(200), check);
  }

  /** The same, checking every {@code interval}: for moments that pass quickly. */
  public static void within(Duration timeout, Duration interval, Check check) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        check.run();
        return;
      } catch (Exception | AssertionError e) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("still failing after " + timeout + ": " + e.getMessage(), e);
        }
      }
      try {
        Thread.sleep(interval.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted", e);
      }
    }
  }
}
