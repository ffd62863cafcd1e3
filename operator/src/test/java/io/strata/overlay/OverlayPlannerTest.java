package io.strata.overlay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.overlay.MountRefusedException.Reason;
import io.strata.sys.MountOption;
import java.nio.file.Path;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OverlayPlannerTest {
  private static final Path TARGET = Path.of("/mnt/strata/train-env");
  private static final Path ROOT = Path.of("/var/lib/strata/layers/abc/root");
  private static final Path UPPER = Path.of("/var/lib/strata/uppers/u1/upper");
  private static final Path WORK = Path.of("/var/lib/strata/uppers/u1/work");
  private static final Path EMPTY = Path.of("/var/lib/strata/empty");

  @Test
  void writableMountHasOneLowerAnUpperAndTheFixedOptions() throws Exception {
    MountSpec spec = OverlayPlanner.plan(OverlayRequest.writable("u1", TARGET, ROOT, UPPER, WORK));
    assertThat(spec)
        .isEqualTo(
            new MountSpec(
                "strata:u1",
                TARGET,
                "overlay",
                EnumSet.of(MountOption.NO_SUID, MountOption.NO_DEV),
                "lowerdir=/var/lib/strata/layers/abc/root,upperdir=/var/lib/strata/uppers/u1/upper,"
                    + "workdir=/var/lib/strata/uppers/u1/work,index=off,metacopy=off,redirect_dir=off"));
  }

  @Test
  void readOnlyMountStacksAnEmptyLowerAndIsMountedReadOnly() throws Exception {
    MountSpec spec = OverlayPlanner.plan(OverlayRequest.readOnly("ro", TARGET, ROOT, EMPTY));
    assertThat(spec.flags())
        .isEqualTo(EnumSet.of(MountOption.READ_ONLY, MountOption.NO_SUID, MountOption.NO_DEV));
    assertThat(spec.data())
        .isEqualTo(
            "lowerdir=/var/lib/strata/layers/abc/root:/var/lib/strata/empty,"
                + "index=off,metacopy=off,redirect_dir=off");
  }

  @Test
  void volatileAndSeLinuxContextAreAddedOnlyWhenAsked() throws Exception {
    MountSpec spec =
        OverlayPlanner.plan(
            OverlayRequest.writable("u1", TARGET, ROOT, UPPER, WORK)
                .withVolatile()
                .withSeLinuxContext("system_u:object_r:container_file_t:s0:c1,c2"));
    assertThat(spec.data())
        .endsWith(",volatile,context=\"system_u:object_r:container_file_t:s0:c1,c2\"");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/var/lib/strata/a,upperdir=/etc",
        "/var/lib/strata/a:/etc",
        "/var/lib/strata/a\\b",
        "/var/lib/strata/a b",
        "/var/lib/strata/a\nb",
        "/var/lib/strata/a\tb",
        "relative/root",
        "/var/lib/strata/../../etc"
      })
  void pathsThatCouldInjectOptionsOrLayersAreRefused(String lower) {
    assertThatThrownBy(
            () ->
                OverlayPlanner.plan(
                    OverlayRequest.writable("u1", TARGET, Path.of(lower), UPPER, WORK)))
        .isInstanceOfSatisfying(
            MountRefusedException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.UnsafeMountOption))
        .hasMessageContaining("lower root");
  }

  @Test
  void aMaliciousSeLinuxContextIsRefused() {
    assertThatThrownBy(
            () ->
                OverlayPlanner.plan(
                    OverlayRequest.writable("u1", TARGET, ROOT, UPPER, WORK)
                        .withSeLinuxContext("a:b:c\",upperdir=/etc")))
        .isInstanceOfSatisfying(
            MountRefusedException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.UnsafeMountOption));
  }

  @Test
  void mountDataOverOnePageIsRefusedNotTruncated() {
    Path deep = Path.of("/var/lib/strata/layers/" + "d".repeat(4000) + "/root");
    assertThatThrownBy(
            () -> OverlayPlanner.plan(OverlayRequest.writable("u1", TARGET, deep, UPPER, WORK)))
        .isInstanceOfSatisfying(
            MountRefusedException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.MountDataTooLong))
        .hasMessageContaining("over one page");
  }

  @Test
  void aUidThatIsNotASimpleNameIsRefused() {
    assertThatThrownBy(
            () -> OverlayPlanner.plan(OverlayRequest.writable("a b", TARGET, ROOT, UPPER, WORK)))
        .isInstanceOf(MountRefusedException.class)
        .hasMessageContaining("uid");
  }
}
