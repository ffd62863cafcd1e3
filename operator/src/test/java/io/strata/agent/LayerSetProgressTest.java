package io.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.agent.LayerSetProgress.Failed;
import io.strata.agent.LayerSetProgress.Fetching;
import io.strata.agent.LayerSetProgress.Materializing;
import io.strata.agent.LayerSetProgress.Pending;
import io.strata.agent.LayerSetProgress.Ready;
import io.strata.crd.AgentReason;
import io.strata.fetch.FetchException;
import io.strata.layerstore.LayerStore.Materialized;
import io.strata.oci.Digest;
import io.strata.tarapply.LayerException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A LayerSet's progress on a node, on a ticker the test moves: no thread, no wait. */
class LayerSetProgressTest {
  private static final long SECOND = 1_000_000_000L;
  private static final Materialized MADE =
      new Materialized(
          Digest.parse("sha256:" + "cd".repeat(32)), Path.of("/r"), 1, 1, List.of(), false);

  @Test
  void failuresThatMayPassAreTriedAgainWithABackoffThatDoublesUpToFiveMinutes() {
    assertThat(LayerSetProgress.backoff(1)).isEqualTo(Duration.ofSeconds(10));
    assertThat(LayerSetProgress.backoff(2)).isEqualTo(Duration.ofSeconds(20));
    assertThat(LayerSetProgress.backoff(5)).isEqualTo(Duration.ofSeconds(160));
    assertThat(LayerSetProgress.backoff(6)).isEqualTo(Duration.ofMinutes(5));
    assertThat(LayerSetProgress.backoff(1_000)).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void onlyFailuresThatMayPassWithTheSameSpecAreTriedAgain() {
    assertThat(LayerSetProgress.MAY_PASS)
        .contains(
            FetchException.Reason.Unreachable,
            FetchException.Reason.NotFound,
            FetchException.Reason.NoSpace,
            LayerException.Reason.DigestMismatch,
            LayerException.Reason.NoSpace,
            LayerException.Reason.IOError)
        .doesNotContain(
            LayerException.Reason.PathEscape,
            LayerException.Reason.InvalidWhiteout,
            LayerException.Reason.SizeLimit,
            LayerException.Reason.AmbiguousHeader,
            FetchException.Reason.UnsupportedImage,
            FetchException.Reason.ForbiddenUrl);
  }

  @Test
  void theWorkGoesFromPendingThroughFetchingAndMaterializingToReady() {
    LayerSetProgress pending = LayerSetProgress.start("spec", new Pending(null, null));
    LayerSetProgress fetching = pending.fetching(5, 10L);
    assertThat(fetching.stage()).isEqualTo(new Fetching(5, 10L));
    assertThat(fetching.materializing().stage()).isInstanceOf(Materializing.class);
    LayerSetProgress ready = fetching.materializing().ready(MADE);
    assertThat(ready.stage()).isEqualTo(new Ready(MADE));
    assertThat(ready.isReady()).isTrue();
    assertThat(ready.isSettled()).isTrue();
    assertThat(fetching.isSettled()).isFalse();
    assertThat(ready.isFor("spec")).isTrue();
    assertThat(ready.isFor("another spec")).isFalse();
  }

  /**
   * Unreachable at t=100 s: due at 110 s, not before. The retry stays Failed while it fetches (no
   * flapping, no second Event), fails again with a doubled wait, and a success clears the count.
   */
  @Test
  void aFailureThatMayPassIsDueAfterItsBackoffAndStaysFailedWhileTheRetryFetches() {
    long t = 100 * SECOND;
    LayerSetProgress failed =
        LayerSetProgress.start("spec", new Pending(null, null))
            .fetching(1, null)
            .failed(FetchException.Reason.Unreachable, "down", t);
    assertThat(failed.stage())
        .isEqualTo(new Failed("Unreachable", "down", Duration.ofSeconds(10), false));
    assertThat(failed.failures()).isOne();
    assertThat(failed.dueForRetry(t + 9 * SECOND)).isFalse();
    assertThat(failed.dueForRetry(t + 10 * SECOND)).isTrue();

    LayerSetProgress retrying = failed.retrying();
    assertThat(retrying.dueForRetry(t + 60 * SECOND)).as("once per failure").isFalse();
    assertThat(retrying.fetching(2, 3L)).as("still Failed while fetching").isEqualTo(retrying);
    assertThat(retrying.stage()).isEqualTo(new Failed("Unreachable", "down", null, true));

    LayerSetProgress again =
        retrying.failed(FetchException.Reason.Unreachable, "down", t + 11 * SECOND);
    assertThat(again.failures()).isEqualTo(2);
    assertThat(((Failed) again.stage()).retryIn()).isEqualTo(Duration.ofSeconds(20));
    assertThat(again.dueForRetry(t + 30 * SECOND)).isFalse();
    assertThat(again.dueForRetry(t + 31 * SECOND)).isTrue();

    LayerSetProgress recovered = again.retrying().materializing().ready(MADE);
    assertThat(recovered.failures()).isZero();
    assertThat(recovered.dueForRetry(Long.MAX_VALUE)).isFalse();
  }

  /** A layer refused for its content fails the same way every time: never due again. */
  @Test
  void aFailureThatCannotPassIsNeverDue() {
    LayerSetProgress refused =
        LayerSetProgress.start("spec", new Pending(null, null))
            .materializing()
            .failed(LayerException.Reason.PathEscape, "../etc/passwd", 0);
    assertThat(refused.stage()).isEqualTo(new Failed("PathEscape", "../etc/passwd", null, false));
    assertThat(refused.dueForRetry(Long.MAX_VALUE)).isFalse();
    assertThat(refused.dueForRetry(0)).isFalse();
  }

  /** The ticker is System.nanoTime: it may be negative, and the arithmetic wraps. */
  @Test
  void theBackoffHoldsAcrossANegativeAndWrappingTicker() {
    long t = Long.MAX_VALUE - 5 * SECOND;
    LayerSetProgress failed =
        LayerSetProgress.start("spec", new Pending(null, null))
            .failed(FetchException.Reason.NotFound, "no blob", t);
    assertThat(failed.dueForRetry(t + 9 * SECOND)).isFalse();
    assertThat(failed.dueForRetry(t + 10 * SECOND)).isTrue();
  }

  @Test
  void onlyAFailureIsRetried() {
    assertThatThrownBy(() -> LayerSetProgress.start("spec", new Pending(null, null)).retrying())
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aLayerSetThatFailedBeforeAnyWorkIsForNoSpec() {
    LayerSetProgress failed = LayerSetProgress.failedAtOnce(AgentReason.InvalidSpec, "bad");
    assertThat(failed.stage()).isEqualTo(new Failed("InvalidSpec", "bad", null, false));
    assertThat(failed.isFor("anything")).isFalse();
  }
}
