package io.strata.testing;

import java.time.Duration;

/**
 * Checks that something stays true for a while, checking it again and again and failing at the
 * first time it does not hold: the way to assert that something does not happen (a mount kept, a
 * waiter still waiting), where {@link Eventually} asserts that it does.
 */
public final class Consistently {
  private Consistently() {}

  public static void during(Duration window, Eventually.Check check) throws Exception {
    long end = System.nanoTime() + window.toNanos();
    int checks = 0;
    do {
      try {
        check.run();
      } catch (AssertionError e) {
        throw new AssertionError(
            "stopped holding after " + checks + " checks within " + window + ": " + e.getMessage(),
            e);
      }
      checks++;
      Thread.sleep(50);
    } while (System.nanoTime() < end);
  }
}
