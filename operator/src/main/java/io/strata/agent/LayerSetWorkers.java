package io.strata.agent;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads LayerSets' work runs on, off the status loop: image listings on two threads of their
 * own (they ask a registry and should not wait behind downloads), fetches and builds on {@code
 * --concurrent-fetches} workers, and one timer for retries. Counts what is queued or running, so
 * blob clean-up can wait for a quiet moment.
 */
final class LayerSetWorkers implements AutoCloseable {
  private final ExecutorService listing =
      Executors.newFixedThreadPool(
          2, r -> Thread.ofPlatform().name("layerset-list").daemon().unstarted(r));
  private final ExecutorService builds;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().name("layerset-retry").daemon().unstarted(r));
  private final AtomicInteger busy = new AtomicInteger();

  LayerSetWorkers(int builders) {
    this.builds =
        Executors.newFixedThreadPool(
            builders, r -> Thread.ofPlatform().name("layerset-work").daemon().unstarted(r));
  }

  /** Lists an image's layers. */
  void list(Runnable work) {
    submit(listing, work);
  }

  /** Fetches and materializes a chain, when a worker is free. */
  void build(Runnable work) {
    submit(builds, work);
  }

  /** Runs {@code action} once after {@code delay}. */
  void after(Duration delay, Runnable action) {
    timer.schedule(action, delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Whether any listing or build is queued or running. */
  boolean busy() {
    return busy.get() > 0;
  }

  /** Runs {@code work} on {@code executor}, counted as busy from now until it has finished. */
  private void submit(ExecutorService executor, Runnable work) {
    busy.incrementAndGet();
    try {
      executor.execute(
          () -> {
            try {
              work.run();
            } finally {
              busy.decrementAndGet();
            }
          });
    } catch (RuntimeException e) {
      busy.decrementAndGet(); // rejected: shutting down
      throw e;
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    listing.shutdownNow();
    builds.shutdownNow();
  }
}
