package io.strata.overlay;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.layout.NodeLayout;
import io.strata.overlay.MountRefusedException.Reason;
import io.strata.overlay.MountStep.CreateDirectories;
import io.strata.overlay.MountStep.CreatePrivateDirectory;
import io.strata.overlay.MountStep.MountOverlay;
import io.strata.overlay.MountStep.MountTmpfs;
import io.strata.overlay.MountStep.RecordLower;
import io.strata.overlay.MountStep.RequireEmptyDirectory;
import io.strata.overlay.MountStep.RequireLowerDirectory;
import io.strata.sys.MountOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every decision of the mount engine, from a request and a mount table as text: what it adopts,
 * what it refuses, and each step of a mount it makes. No root, no node.
 */
class MountPlannerTest {
  private static final Path STATE = Path.of("/var/lib/strata");
  private static final Path BASE = Path.of("/mnt/strata");
  private static final Path LOWER = Path.of("/var/lib/strata/layers/c1/root");
  private static final Path OTHER_LOWER = Path.of("/var/lib/strata/layers/c0/root");
  private static final String FIXED = "index=off,metacopy=off,redirect_dir=off";

  private final NodeLayout layout = new NodeLayout(STATE, BASE);
  private final MountPlanner planner = new MountPlanner(layout);
  private final List<String> lines = new ArrayList<>();

  @Test
  void aDiskMountMakesItsUpperNextToItsRecordsThenMountsOnce() throws Exception {
    MountPlan plan = planner.plan(MountRequest.disk("u1", "env", LOWER), table());

    Path home = STATE.resolve("uppers/u1");
    MountSpec overlay =
        new MountSpec(
            "strata:u1",
            BASE.resolve("env"),
            "overlay",
            EnumSet.of(MountOption.NO_SUID, MountOption.NO_DEV),
            "lowerdir="
                + LOWER
                + ",upperdir="
                + home.resolve("upper")
                + ",workdir="
                + home.resolve("work")
                + ","
                + FIXED);
    assertThat(plan.steps())
        .containsExactly(
            new RequireLowerDirectory(LOWER),
            new CreateDirectories(BASE),
            new CreateDirectories(STATE.resolve("uppers")),
            new CreatePrivateDirectory(home, null),
            new CreatePrivateDirectory(home.resolve("upper"), LOWER),
            new CreatePrivateDirectory(home.resolve("work"), null),
            new RecordLower(home.resolve("lower"), LOWER),
            new MountOverlay(overlay, BASE));
    assertThat(plan.outcome())
        .isEqualTo(
            new MountedOverlay(
                "u1",
                BASE.resolve("env"),
                overlay,
                home.resolve("upper"),
                home.resolve("work"),
                false,
                null));
  }

  @Test
  void aMemoryUpperIsATmpfsOfItsSizeMountedBeforeItsDirectoriesAreMade() throws Exception {
    MountPlan plan =
        planner.plan(MountRequest.disk("u2", "scratch", LOWER).inMemory(1 << 20), table());

    Path tmpfs = BASE.resolve(".uppers/u2");
    assertThat(plan.steps())
        .containsSubsequence(
            new MountTmpfs(
                new MountSpec(
                    "strata-upper:u2",
                    tmpfs,
                    "tmpfs",
                    EnumSet.of(MountOption.NO_SUID, MountOption.NO_DEV),
                    "size=1048576,mode=0700"),
                BASE),
            new CreatePrivateDirectory(tmpfs.resolve("upper"), LOWER),
            new CreatePrivateDirectory(tmpfs.resolve("work"), null));
    assertThat(plan.outcome().upperDir()).isEqualTo(tmpfs.resolve("upper"));
  }

  @Test
  void aSizedDiskUpperIsAnExt4OfItsOwnAndOneStillMountedIsKept() throws Exception {
    MountRequest request = MountRequest.disk("u3", "scratch", LOWER).onDiskOf(64L << 20);
    Path home = STATE.resolve("uppers/u3");

    assertThat(planner.plan(request, table()).steps())
        .containsSubsequence(
            new CreatePrivateDirectory(home, null),
            new MountStep.MountDiskImage(
                home.resolve("disk.img"), 64L << 20, home.resolve("fs"), STATE.resolve("uppers")),
            new CreatePrivateDirectory(home.resolve("fs/upper"), LOWER),
            new CreatePrivateDirectory(home.resolve("fs/work"), null));

    mounted(home.resolve("fs"), "ext4", "/dev/loop3", "rw");
    assertThat(planner.plan(request, table()).steps())
        .noneMatch(s -> s instanceof MountStep.MountDiskImage);
  }

  @Test
  void aMemoryUpperLeftByAnEarlierRunIsKeptAndAForeignMountThereIsAConflict() throws Exception {
    mounted(BASE.resolve(".uppers/u2"), "tmpfs", "strata-upper:u2", "rw,size=1024k");
    MountRequest request = MountRequest.disk("u2", "scratch", LOWER).inMemory(1 << 20);
    assertThat(planner.plan(request, table()).steps()).noneMatch(s -> s instanceof MountTmpfs);

    lines.clear();
    mounted(BASE.resolve(".uppers/u2"), "tmpfs", "tmpfs", "rw");
    assertRefused(request, Reason.Conflict, "not made by Strata");
  }

  @Test
  void aReadOnlyMountStacksTheEmptyLowerAndHasNoUpper() throws Exception {
    MountPlan plan = planner.plan(MountRequest.disk("u3", "ro", LOWER).asReadOnly(), table());

    assertThat(plan.steps())
        .contains(new RequireEmptyDirectory(layout.emptyLower()))
        .noneMatch(s -> s instanceof CreatePrivateDirectory c && c.ownerFrom() != null);
    MountSpec spec = ((MountOverlay) plan.steps().getLast()).spec();
    assertThat(spec.flags())
        .isEqualTo(EnumSet.of(MountOption.READ_ONLY, MountOption.NO_SUID, MountOption.NO_DEV));
    assertThat(spec.data()).startsWith("lowerdir=" + LOWER + ":" + layout.emptyLower() + ",");
    assertThat(plan.outcome().upperDir()).isNull();
  }

  @Test
  void itsOwnOverlayAtTheTargetIsAdoptedAndNothingIsDoneToTheNode() throws Exception {
    mountedOverlay("u1", BASE.resolve("env"), LOWER);
    MountRequest request = MountRequest.disk("u1", "env", LOWER);

    MountPlan plan = planner.plan(request, table());
    assertThat(plan.steps()).containsExactly(new RequireLowerDirectory(LOWER));
    assertThat(plan.outcome().adopted()).isTrue();
    assertThat(plan.outcome().previousLower()).isNull();
  }

  @Test
  void anAdoptedMountOnAnOlderLowerDescribesWhatIsMounted() throws Exception {
    mountedOverlay("u1", BASE.resolve("env"), OTHER_LOWER);

    MountedOverlay outcome = planner.plan(MountRequest.disk("u1", "env", LOWER), table()).outcome();
    assertThat(outcome.adopted()).isTrue();
    assertThat(outcome.previousLower()).isEqualTo(OTHER_LOWER);
    assertThat(outcome.spec().data()).startsWith("lowerdir=" + OTHER_LOWER + ",");
  }

  @Test
  void anythingElseAtTheTargetIsNeverMountedOver() {
    mounted(BASE.resolve("env"), "ext4", "/dev/sdb1", "rw");
    assertRefused(MountRequest.disk("u1", "env", LOWER), Reason.Conflict, "never mounted over");

    lines.clear();
    mountedOverlay("someone-else", BASE.resolve("env"), LOWER);
    assertRefused(MountRequest.disk("u1", "env", LOWER), Reason.Conflict, "strata:someone-else");
  }

  @Test
  void nestingWithAnotherStrataMountOrMountingTwiceIsAConflict() {
    mountedOverlay("u9", BASE.resolve("outer"), LOWER);
    assertRefused(
        MountRequest.disk("u1", "x", LOWER).withTarget(BASE.resolve("outer/inner").toString()),
        Reason.Conflict,
        "nests with Strata mount");
    assertRefused(
        MountRequest.disk("u9", "elsewhere", LOWER), Reason.Conflict, "already mounted at");
    assertRefused(
        MountRequest.disk("u1", "env", BASE.resolve("outer/usr")),
        Reason.Conflict,
        "under the mount base");
  }

  @Test
  void aLowerInsideAMergedViewOutsideTheBaseIsRefusedToo() {
    mountedOverlay("u9", BASE.resolve("outer"), LOWER);
    // Only Strata's overlays beneath the base count as merged views.
    mountedOverlay("u8", Path.of("/elsewhere/view"), LOWER);
    assertThat(catchRefusal(MountRequest.disk("u1", "env", Path.of("/elsewhere/view/usr"))))
        .isNull();
  }

  @Test
  void lowersAndTargetsAreCheckedBeforeAnything() {
    assertRefused(
        MountRequest.disk("u1", "env", Path.of("relative")), Reason.LowerMissing, "absolute");
    assertRefused(
        MountRequest.disk("u1", "env", LOWER).withTarget("/etc"), Reason.UnsafeTarget, null);
    assertRefused(
        MountRequest.disk("u1", "env", Path.of("/var/lib/strata/a,upperdir=/x")),
        Reason.UnsafeMountOption,
        "cannot carry");
  }

  private void assertRefused(MountRequest request, Reason reason, String message) {
    MountRefusedException refused = catchRefusal(request);
    assertThat(refused).as("refused").isNotNull();
    assertThat(refused.reason()).isEqualTo(reason);
    if (message != null) {
      assertThat(refused.getMessage()).contains(message);
    }
  }

  private MountRefusedException catchRefusal(MountRequest request) {
    try {
      planner.plan(request, table());
      return null;
    } catch (MountRefusedException e) {
      return e;
    }
  }

  private void mountedOverlay(String uid, Path target, Path lower) {
    mounted(
        target,
        "overlay",
        "strata:" + uid,
        "rw,lowerdir=" + lower + ",upperdir=/var/lib/strata/uppers/" + uid + "/upper");
  }

  private void mounted(Path target, String fsType, String source, String superOptions) {
    int id = 100 + lines.size();
    lines.add(
        id
            + " 1 0:"
            + id
            + " / "
            + target
            + " rw,relatime shared:"
            + id
            + " - "
            + fsType
            + " "
            + source
            + " "
            + superOptions);
  }

  private MountTable table() {
    List<String> all = new ArrayList<>();
    all.add("1 0 8:1 / / rw,relatime - ext4 /dev/vda rw");
    all.add("2 1 8:1 /mnt/strata /mnt/strata rw,relatime shared:2 - ext4 /dev/vda rw");
    all.addAll(lines);
    return MountTable.parse(String.join("\n", all));
  }
}
