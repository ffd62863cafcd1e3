package io.strata.overlay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.overlay.MountRefusedException.Reason;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MountTargetsTest {
  private static final Path BASE = Path.of("/mnt/strata");

  @Test
  void targetsStrictlyBeneathTheBaseAreAccepted() throws Exception {
    assertThat(MountTargets.requireUnderBase(BASE, "/mnt/strata/train-env"))
        .isEqualTo(Path.of("/mnt/strata/train-env"));
    assertThat(MountTargets.requireUnderBase(BASE, "/mnt/strata/team/a/b"))
        .isEqualTo(Path.of("/mnt/strata/team/a/b"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/",
        "/etc",
        "/proc",
        "/var/lib/kubelet",
        "/var/lib/strata",
        "/mnt/strata",
        "/mnt/strataX",
        "/mnt/strataX/a",
        "/mnt/strata/../etc",
        "/mnt/strata/a/../../etc",
        "/mnt/strata//a",
        "/mnt/strata/a/",
        "/mnt/strata/./a",
        "mnt/strata/a",
        "/mnt/strata/.uppers/u1"
      })
  void everythingElseIsAnUnsafeTarget(String target) {
    assertThatThrownBy(() -> MountTargets.requireUnderBase(BASE, target))
        .as(target)
        .isInstanceOfSatisfying(
            MountRefusedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.UnsafeTarget))
        .hasMessageContaining(target);
  }
}
