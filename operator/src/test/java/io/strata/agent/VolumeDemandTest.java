package io.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class VolumeDemandTest {
  /** A clock the test moves. */
  private static final class Moving extends Clock {
    private Instant now = Instant.parse("2026-12-08T00:00:00Z");

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }

  @Test
  void aRequestLastsItsTtlFromWhenItWasLastMade() {
    Moving clock = new Moving();
    VolumeDemand demand = new VolumeDemand(clock);

    assertThat(demand.ask("tools")).isTrue();
    assertThat(demand.ask("tools")).isFalse();
    clock.now = clock.now.plus(VolumeDemand.TTL.minus(Duration.ofSeconds(1)));
    demand.ask("tools"); // kubelet asks again while the pod waits
    clock.now = clock.now.plus(VolumeDemand.TTL.minus(Duration.ofSeconds(1)));
    assertThat(demand.current()).containsExactly("tools");

    clock.now = clock.now.plus(Duration.ofSeconds(2));
    assertThat(demand.current()).isEmpty();
  }
}
