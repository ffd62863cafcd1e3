package io.strata.crd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Quantity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ByteQuantityTest {
  @Test
  void wholeBytesWithBinaryAndDecimalSuffixes() {
    assertThat(ByteQuantity.parse("f", "1")).isEqualTo(1);
    assertThat(ByteQuantity.parse("f", "64Mi")).isEqualTo(64L << 20);
    assertThat(ByteQuantity.parse("f", "500M")).isEqualTo(500_000_000L);
    assertThat(ByteQuantity.parse("f", "2k")).isEqualTo(2_000L);
    assertThat(ByteQuantity.parse("f", "1Ti")).isEqualTo(ByteQuantity.MAX);
    assertThat(ByteQuantity.parse("f", new Quantity("3Gi"))).isEqualTo(3L << 30);
  }

  /** What a Kubernetes quantity allows but no agent can honour as bytes, each named clearly. */
  @ParameterizedTest
  @ValueSource(strings = {"100m", "1.5", "1e3", "-1", "0", "0Ki", "1025Gi", "2T", "1Pi", "", "Mi"})
  void everythingElseIsRefusedNamingTheFieldAndTheValue(String value) {
    assertThatThrownBy(() -> ByteQuantity.parse("spec.upper.sizeLimit", value))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("spec.upper.sizeLimit is \"" + value + "\": it must be");
  }

  @Test
  void aMissingOrEndlessValueIsRefusedToo() {
    assertThatThrownBy(() -> ByteQuantity.parse("--memory", (String) null))
        .hasMessage(
            "--memory is missing: it must be a whole number of bytes, optionally with Ki, Mi, Gi,"
                + " Ti, k, M, G or T");
    assertThatThrownBy(() -> ByteQuantity.parse("--memory", "9".repeat(1000)))
        .hasMessageContaining("\"" + "9".repeat(32) + "...\"");
  }
}
