package io.strata.agent;

import io.strata.fetch.FetchException;
import io.strata.layerstore.LayerStore.Materialized;
import io.strata.tarapply.LayerException;
import java.time.Duration;
import java.util.Set;

/**
 * Where one LayerSet's work stands on this node, for the spec it was asked with: a small state
 * machine whose transitions return the next state. Time comes from the caller (a nanosecond
 * ticker), so the back-off is tested without waiting; the wire entry is made from it only by {@link
 * NodeStatusBuilder}.
 *
 * <pre>
 *   Pending ──▶ Fetching ──▶ Materializing ──▶ Ready
 *      │            │              │
 *      └────────────┴──────────────┴──▶ Failed ──(may pass: after the back-off)──▶ Failed, retrying
 *                                                                      │    (until past fetching)
 *                                                                      └──▶ Materializing ▶ Ready
 * </pre>
 *
 * @param spec what the work depends on (see {@code LayerSetWork}); a new spec starts over
 * @param stage where the work is
 * @param failures failures in a row for this spec; Ready sets it back to 0
 * @param retryAt when (nanos, on the caller's ticker) a failure that may pass is tried again; 0 for
 *     never, until the spec changes
 */
record LayerSetProgress(String spec, LayerSetProgress.Stage stage, int failures, long retryAt) {
  /** Where a LayerSet's work is. */
  sealed interface Stage {}

  /** Queued, or waiting for something outside the node ({@code reason} then says what). */
  record Pending(Enum<?> reason, String message) implements Stage {}

  /** Downloading the chain's blobs: bytes so far, and in all when every size is known. */
  record Fetching(long fetchedBytes, Long totalBytes) implements Stage {}

  /** Applying the fetched layers. */
  record Materializing() implements Stage {}

  /** The chain's root is committed. */
  record Ready(Materialized made) implements Stage {}

  /**
   * The work failed: {@code retryIn} is the wait before it is tried again (null: not until the spec
   * changes), {@code retrying} that the attempt after the wait has begun.
   */
  record Failed(String reason, String message, Duration retryIn, boolean retrying)
      implements Stage {}

  /**
   * Failures that may pass while the spec stays the same (a server down or not yet holding the
   * blob, a secret created or fixed later, a blob whose cached copy went bad, a full disk the
   * collector frees). A layer whose pinned bytes are refused fails the same way every time and is
   * not tried again.
   */
  static final Set<Enum<?>> MAY_PASS =
      Set.of(
          FetchException.Reason.Unreachable,
          FetchException.Reason.NotFound,
          FetchException.Reason.Unauthorized,
          FetchException.Reason.InvalidPullSecret,
          FetchException.Reason.DigestMismatch,
          FetchException.Reason.NoSpace,
          FetchException.Reason.IOError,
          LayerException.Reason.DigestMismatch,
          LayerException.Reason.NoSpace,
          LayerException.Reason.IOError);

  /** The first wait, doubled after each failure in a row, as the kubelet backs off image pulls. */
  static final Duration FIRST_RETRY = Duration.ofSeconds(10);

  static final Duration LONGEST_RETRY = Duration.ofMinutes(5);

  /** How long to wait after the {@code failures}-th failure in a row. */
  static Duration backoff(int failures) {
    Duration wait = FIRST_RETRY;
    for (int i = 1; i < failures && wait.compareTo(LONGEST_RETRY) < 0; i++) {
      wait = wait.multipliedBy(2);
    }
    return wait.compareTo(LONGEST_RETRY) < 0 ? wait : LONGEST_RETRY;
  }

  /** New work for {@code spec}, starting at {@code first}. */
  static LayerSetProgress start(String spec, Stage first) {
    return new LayerSetProgress(spec, first, 0, 0);
  }

  /** A LayerSet that failed before any work could start (for no spec: it is never retried). */
  static LayerSetProgress failedAtOnce(Enum<?> reason, String message) {
    return new LayerSetProgress(null, new Failed(reason.name(), message, null, false), 1, 0);
  }

  boolean isFor(String spec) {
    return spec.equals(this.spec);
  }

  /** Whether a failure that may pass has waited long enough at {@code now}. */
  boolean dueForRetry(long now) {
    return stage instanceof Failed && retryAt != 0 && now - retryAt >= 0;
  }

  /**
   * The retry begins. It reports Failed, with the last reason, until it gets past fetching: the
   * node does not look recovered, nor fail anew (no new Event), for every attempt while the cause
   * lasts.
   */
  LayerSetProgress retrying() {
    if (!(stage instanceof Failed failed)) {
      throw new IllegalStateException("only a failure is retried, not " + stage);
    }
    return new LayerSetProgress(
        spec, new Failed(failed.reason(), failed.message(), null, true), failures, 0);
  }

  /** Downloading; a retry stays Failed until its blobs are all there. */
  LayerSetProgress fetching(long fetchedBytes, Long totalBytes) {
    if (stage instanceof Failed) {
      return this;
    }
    return new LayerSetProgress(spec, new Fetching(fetchedBytes, totalBytes), failures, 0);
  }

  LayerSetProgress materializing() {
    return new LayerSetProgress(spec, new Materializing(), failures, 0);
  }

  LayerSetProgress ready(Materialized made) {
    return new LayerSetProgress(spec, new Ready(made), 0, 0);
  }

  /**
   * The work failed at {@code now}; one that {@link #MAY_PASS may pass} is tried again after the
   * back-off for the failures in a row, which the returned state's {@link Failed#retryIn()} says.
   */
  LayerSetProgress failed(Enum<?> reason, String message, long now) {
    int inARow = failures + 1;
    if (!MAY_PASS.contains(reason)) {
      return new LayerSetProgress(spec, new Failed(reason.name(), message, null, false), inARow, 0);
    }
    Duration wait = backoff(inARow);
    long at = now + wait.toNanos();
    return new LayerSetProgress(
        spec, new Failed(reason.name(), message, wait, false), inARow, at == 0 ? 1 : at);
  }

  boolean isReady() {
    return stage instanceof Ready;
  }

  /** Ready or Failed: nothing is being fetched or built for it. */
  boolean isSettled() {
    return stage instanceof Ready || stage instanceof Failed;
  }
}
