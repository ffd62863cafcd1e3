package io.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.tarapply.LayerException.Reason;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class LayerSetWorkTest {
  @Test
  void failuresThatMayPassAreTriedAgainWithABackoffThatDoublesUpToFiveMinutes() {
    assertThat(LayerSetWork.backoff(1)).isEqualTo(Duration.ofSeconds(10));
    assertThat(LayerSetWork.backoff(2)).isEqualTo(Duration.ofSeconds(20));
    assertThat(LayerSetWork.backoff(5)).isEqualTo(Duration.ofSeconds(160));
    assertThat(LayerSetWork.backoff(6)).isEqualTo(Duration.ofMinutes(5));
    assertThat(LayerSetWork.backoff(1_000)).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void onlyFailuresThatMayPassWithTheSameSpecAreTriedAgain() {
    assertThat(LayerSetWork.RETRIED)
        .contains(Reason.Unreachable, Reason.NotFound, Reason.NoSpace, Reason.IOError)
        .doesNotContain(
            Reason.PathEscape,
            Reason.InvalidWhiteout,
            Reason.SizeLimit,
            Reason.AmbiguousHeader,
            Reason.UnsupportedImage);
  }
}
