package io.strata.csi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.csi.VolumeRefusedException.Code;
import io.strata.layout.NodeLayout;
import io.strata.overlay.MountPlan;
import io.strata.overlay.MountSpec;
import io.strata.overlay.MountStep.CreateDirectories;
import io.strata.overlay.MountStep.CreatePrivateDirectory;
import io.strata.overlay.MountStep.MountDiskImage;
import io.strata.overlay.MountStep.MountOverlay;
import io.strata.overlay.MountStep.MountTmpfs;
import io.strata.overlay.MountStep.RequireEmptyDirectory;
import io.strata.overlay.MountStep.RequireLowerDirectory;
import io.strata.overlay.MountStep.ShareWithGroup;
import io.strata.overlay.MountTable;
import io.strata.sys.MountOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class VolumePlannerTest {
  private static final Path STATE = Path.of("/var/lib/strata");
  private static final Path LOWER = STATE.resolve("layers/ab12/root");
  private static final String ID = "csi-5f0c";
  private static final String TARGET =
      "/var/lib/kubelet/pods/0b6c1f9e/volumes/kubernetes.io~csi/tools/mount";

  private final NodeLayout node = new NodeLayout(STATE, Path.of("/mnt/strata"));
  private final CsiLayout csi = new CsiLayout(Path.of("/var/lib/kubelet"));
  private final VolumePlanner planner = new VolumePlanner(node, csi);
  private final List<String> mountinfo = new ArrayList<>();

  private static VolumeAttributes disk() {
    return new VolumeAttributes(
        "tools", VolumeAttributes.Medium.Disk, 64L << 20, "team-a", "web-0");
  }

  private MountTable table() {
    return MountTable.parse(String.join("\n", mountinfo));
  }

  @Test
  void theSocketsAndTargetsLieWhereKubeletLooks() {
    assertThat(csi.csiSocket())
        .isEqualTo(Path.of("/var/lib/kubelet/plugins/csi.strata.io/csi.sock"));
    assertThat(csi.registrationSocket())
        .isEqualTo(Path.of("/var/lib/kubelet/plugins_registry/csi.strata.io-reg.sock"));
    assertThat(csi.podsDir()).isEqualTo(Path.of("/var/lib/kubelet/pods"));
  }

  @Test
  void aDiskVolumeGetsAnUpperOfItsOwnSizeUnderTheStateDir() throws Exception {
    MountPlan plan =
        planner.plan(new VolumeRequest(ID, TARGET, false, disk(), 2000), LOWER, table()).get();

    Path home = STATE.resolve("volumes").resolve(ID);
    assertThat(plan.steps())
        .containsExactly(
            new RequireLowerDirectory(LOWER),
            new CreateDirectories(STATE.resolve("volumes")),
            new CreatePrivateDirectory(home, null),
            new MountDiskImage(
                home.resolve("disk.img"), 64L << 20, home.resolve("fs"), STATE.resolve("volumes")),
            new CreatePrivateDirectory(home.resolve("fs/upper"), LOWER),
            new ShareWithGroup(home.resolve("fs/upper"), 2000),
            new CreatePrivateDirectory(home.resolve("fs/work"), null),
            new MountOverlay(
                new MountSpec(
                    "strata-csi:" + ID,
                    Path.of(TARGET),
                    "overlay",
                    EnumSet.of(MountOption.NO_SUID, MountOption.NO_DEV),
                    "lowerdir="
                        + LOWER
                        + ",upperdir="
                        + home.resolve("fs/upper")
                        + ",workdir="
                        + home.resolve("fs/work")
                        + ",index=off,metacopy=off,redirect_dir=off"),
                csi.podsDir()));
  }

  @Test
  void aMemoryVolumeMountsATmpfsOfItsSizeForTheUpper() throws Exception {
    VolumeAttributes memory =
        new VolumeAttributes("tools", VolumeAttributes.Medium.Memory, 1 << 20, "team-a", "web-0");

    MountPlan plan =
        planner.plan(new VolumeRequest(ID, TARGET, false, memory, null), LOWER, table()).get();

    Path home = STATE.resolve("volumes").resolve(ID);
    assertThat(plan.steps())
        .containsSubsequence(
            new CreatePrivateDirectory(home, null),
            new MountTmpfs(
                new MountSpec(
                    "strata-csi-upper:" + ID,
                    home.resolve("fs"),
                    "tmpfs",
                    EnumSet.of(MountOption.NO_SUID, MountOption.NO_DEV),
                    "size=1048576,mode=0700"),
                STATE.resolve("volumes")),
            new CreatePrivateDirectory(home.resolve("fs/upper"), LOWER));
    assertThat(plan.steps()).noneMatch(s -> s instanceof ShareWithGroup);
  }

  @Test
  void aReadOnlyVolumeHasNoUpperOnlyItsRecord() throws Exception {
    MountPlan plan =
        planner.plan(new VolumeRequest(ID, TARGET, true, disk(), 2000), LOWER, table()).get();

    assertThat(plan.steps())
        .containsExactly(
            new RequireLowerDirectory(LOWER),
            new CreateDirectories(STATE.resolve("volumes")),
            new CreatePrivateDirectory(STATE.resolve("volumes").resolve(ID), null),
            new RequireEmptyDirectory(STATE.resolve("empty")),
            new MountOverlay(
                new MountSpec(
                    "strata-csi:" + ID,
                    Path.of(TARGET),
                    "overlay",
                    EnumSet.of(MountOption.NO_SUID, MountOption.NO_DEV, MountOption.READ_ONLY),
                    "lowerdir="
                        + LOWER
                        + ":"
                        + STATE.resolve("empty")
                        + ",index=off,metacopy=off,redirect_dir=off"),
                csi.podsDir()));
  }

  @Test
  void publishingAgainIsNothingToDoAndAnotherMountThereIsRefused() throws Exception {
    mounted(TARGET, "overlay", "strata-csi:" + ID);
    assertThat(planner.plan(new VolumeRequest(ID, TARGET, false, disk(), null), LOWER, table()))
        .isEmpty();

    assertThatThrownBy(
            () ->
                planner.plan(
                    new VolumeRequest("csi-other", TARGET, false, disk(), null), LOWER, table()))
        .isInstanceOfSatisfying(
            VolumeRefusedException.class, e -> assertThat(e.code()).isEqualTo(Code.ALREADY_EXISTS))
        .hasMessageContaining("is already a mountpoint (strata-csi:" + ID + ")");
  }

  @Test
  void targetsOutsideThePodsDirectoryAndBadVolumeIdsAreRefused() {
    for (String target :
        List.of(
            "/etc/cron.d",
            "relative/mount",
            "/var/lib/kubelet/pods",
            "/var/lib/kubelet/pods/../plugins/x",
            "/var/lib/kubelet/podsX/a/mount",
            "/var/lib/kubelet/pods/a//mount",
            "/var/lib/kubelet/pods/a/mount/")) {
      assertThatThrownBy(
              () ->
                  planner.plan(new VolumeRequest(ID, target, false, disk(), null), LOWER, table()))
          .as(target)
          .isInstanceOfSatisfying(
              VolumeRefusedException.class,
              e -> assertThat(e.code()).isEqualTo(Code.INVALID_ARGUMENT))
          .hasMessageContaining("target path");
    }
    for (String id : List.of("", "../x", ".hidden", "a/b", "a,b", "x".repeat(129))) {
      assertThatThrownBy(
              () ->
                  planner.plan(new VolumeRequest(id, TARGET, false, disk(), null), LOWER, table()))
          .as(id)
          .isInstanceOfSatisfying(
              VolumeRefusedException.class,
              e -> assertThat(e.code()).isEqualTo(Code.INVALID_ARGUMENT))
          .hasMessageContaining("volume id");
    }
  }

  /** A line of /proc/self/mountinfo, as the kernel writes it. */
  private void mounted(String at, String type, String source) {
    int id = 100 + mountinfo.size();
    mountinfo.add(
        id + " 1 0:" + id + " / " + at + " rw,relatime shared:1 - " + type + " " + source + " rw");
  }
}
