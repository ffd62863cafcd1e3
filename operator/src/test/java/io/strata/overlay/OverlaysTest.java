package io.strata.overlay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.layout.NodeLayout;
import io.strata.overlay.MountRefusedException.Reason;
import io.strata.sys.MountOption;
import io.strata.sys.Syscalls;
import io.strata.testing.RootMounts;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real overlay mounts, as root, in a scratch mount base. */
class OverlaysTest {
  @TempDir Path tmp;

  private RootMounts node;
  private NodeLayout layout;
  private Overlays overlays;

  @BeforeEach
  void prepare() throws IOException {
    node = RootMounts.prepare(tmp);
    layout = new NodeLayout(node.stateDir, node.mountBase);
    overlays = new Overlays(layout, Syscalls.get());
    Files.writeString(node.lower.resolve("from-lower"), "lower\n");
    Files.createDirectories(node.lower.resolve("dir"));
    Files.writeString(node.lower.resolve("dir/kept"), "kept\n");
  }

  @AfterEach
  void cleanUp() throws IOException {
    if (node != null) {
      node.cleanUp();
    }
  }

  @Test
  void writesThroughTheMergedViewLandInTheUpperNeverInTheLower() throws Exception {
    MountedOverlay mounted = overlays.mount(MountRequest.disk("u1", "env", node.lower));
    Path merged = node.mountBase.resolve("env");
    assertThat(mounted.target()).isEqualTo(merged);
    assertThat(mounted.spec().source()).isEqualTo("strata:u1");
    assertThat(Files.readString(merged.resolve("from-lower"))).isEqualTo("lower\n");

    Files.writeString(merged.resolve("new"), "new\n");
    Files.writeString(merged.resolve("from-lower"), "changed\n");

    assertThat(Files.readString(mounted.upperDir().resolve("new"))).isEqualTo("new\n");
    assertThat(Files.readString(mounted.upperDir().resolve("from-lower"))).isEqualTo("changed\n");
    assertThat(Files.readString(node.lower.resolve("from-lower"))).isEqualTo("lower\n");
    assertThat(node.lower.resolve("new")).doesNotExist();
    assertThat(mounted.upperDir()).isEqualTo(layout.upperHome("u1").resolve("upper"));
    MountInfo info = overlays.mounted().get("u1");
    assertThat(info.mountOptions()).contains("nosuid", "nodev");
    assertThat(info.superOptions()).contains("upperdir=" + mounted.upperDir());
    assertThat(mounted.spec().data()).endsWith(",index=off,metacopy=off,redirect_dir=off");
  }

  @Test
  void deletingALowerFileLeavesAWhiteoutInTheUpper() throws Exception {
    MountedOverlay mounted = overlays.mount(MountRequest.disk("u1", "env", node.lower));
    Files.delete(mounted.target().resolve("from-lower"));
    assertThat(mounted.target().resolve("from-lower")).doesNotExist();
    assertThat(Syscalls.get().lstat(mounted.upperDir().resolve("from-lower")).isWhiteout())
        .isTrue();
    assertThat(node.lower.resolve("from-lower")).exists();
  }

  @Test
  void readOnlyMountsRefuseWrites() throws Exception {
    MountedOverlay mounted = overlays.mount(MountRequest.disk("ro", "ro", node.lower).asReadOnly());
    assertThat(mounted.spec().data())
        .startsWith("lowerdir=" + node.lower + ":" + layout.emptyLower());
    assertThat(Files.readString(mounted.target().resolve("from-lower"))).isEqualTo("lower\n");
    assertThatThrownBy(() -> Files.writeString(mounted.target().resolve("x"), "x"))
        .isInstanceOf(FileSystemException.class)
        .hasMessageContaining("Read-only file system");
  }

  @Test
  void aMemoryUpperStopsAtItsSize() throws Exception {
    MountedOverlay mounted =
        overlays.mount(MountRequest.disk("mem", "mem", node.lower).inMemory(1 << 20));
    assertThat(mounted.upperDir()).isEqualTo(node.mountBase.resolve(".uppers/mem/upper"));
    byte[] twoMegabytes = new byte[2 << 20];
    assertThatThrownBy(() -> Files.write(mounted.target().resolve("big"), twoMegabytes))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("No space left on device");
    assertThat(MountTable.read().at(node.mountBase.resolve(".uppers/mem")))
        .get()
        .extracting(MountInfo::fsType)
        .isEqualTo("tmpfs");

    overlays.unmount("mem", true);
    assertThat(MountTable.read().at(node.mountBase.resolve(".uppers/mem"))).isEmpty();
    assertThat(layout.upperHome("mem")).doesNotExist();
  }

  @Test
  void aSizedDiskUpperStopsAtItsSizeAndKeepsItsDataAcrossRemounts() throws Exception {
    MountRequest request = MountRequest.disk("disk", "disk", node.lower).onDiskOf(8L << 20);
    MountedOverlay mounted = overlays.mount(request);
    Path fs = layout.upperHome("disk").resolve("fs");
    assertThat(mounted.upperDir()).isEqualTo(fs.resolve("upper"));
    assertThat(MountTable.read().at(fs)).get().extracting(MountInfo::fsType).isEqualTo("ext4");
    Files.writeString(mounted.target().resolve("kept"), "kept\n");
    assertThatThrownBy(() -> Files.write(mounted.target().resolve("big"), new byte[16 << 20]))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("No space left on device");

    overlays.unmount("disk", false); // the upper is kept: the next mount finds its data
    assertThat(MountTable.read().at(fs)).as("its file system goes with the overlay").isEmpty();
    MountedOverlay again = overlays.mount(request);
    assertThat(Files.readString(again.target().resolve("kept"))).isEqualTo("kept\n");
    Files.delete(again.target().resolve("big"));

    overlays.unmount("disk", true);
    assertThat(MountTable.read().at(fs)).isEmpty();
    assertThat(layout.upperHome("disk")).doesNotExist();
  }

  @Test
  void aRestartedEngineAdoptsInsteadOfMountingTwice() throws Exception {
    overlays.mount(MountRequest.disk("u1", "env", node.lower));
    Files.writeString(node.mountBase.resolve("env/kept-across-restart"), "x");

    Overlays restarted = new Overlays(layout, Syscalls.get());
    MountedOverlay again = restarted.mount(MountRequest.disk("u1", "env", node.lower));

    assertThat(again.adopted()).isTrue();
    assertThat(again.previousLower()).isNull();
    assertThat(node.mountsBeneath().stream().filter(m -> m.source().equals("strata:u1")))
        .hasSize(1);
    assertThat(node.mountBase.resolve("env/kept-across-restart")).exists();
  }

  @Test
  void aNewLowerKeepsTheUpperAndSaysWhatItWasOn() throws Exception {
    overlays.mount(MountRequest.disk("u1", "env", node.lower));
    Files.writeString(node.mountBase.resolve("env/mine"), "x");
    overlays.unmount("u1", false);

    Path newLower = Files.createDirectories(tmp.resolve("lower2"));
    MountedOverlay remounted = overlays.mount(MountRequest.disk("u1", "env", newLower));
    assertThat(remounted.previousLower()).isEqualTo(node.lower);
    assertThat(node.mountBase.resolve("env/mine")).exists();
  }

  @Test
  void anAdoptedMountOnAnOlderLowerDescribesWhatIsMountedNotWhatWasAsked() throws Exception {
    overlays.mount(MountRequest.disk("u1", "env", node.lower));
    Path newLower = Files.createDirectories(tmp.resolve("lower2"));

    MountedOverlay adopted = overlays.mount(MountRequest.disk("u1", "env", newLower));

    assertThat(adopted.adopted()).isTrue();
    assertThat(adopted.previousLower()).isEqualTo(node.lower);
    assertThat(adopted.spec().data()).contains("lowerdir=" + node.lower);
    assertThat(adopted.spec().data()).doesNotContain(newLower.toString());
  }

  @Test
  void aPassSnapshotAdoptsWhatItShowsAndNeverHidesAMountMadeSince() throws Exception {
    MountTable before = MountTable.read();
    MountedOverlay made = overlays.mount(MountRequest.disk("u1", "env", node.lower));

    // Taken before the mount: planned on it, the mount meets itself on the target's handle; the
    // engine reads the table again and adopts.
    MountedOverlay fromStale = overlays.mount(MountRequest.disk("u1", "env", node.lower), before);
    assertThat(fromStale.adopted()).isTrue();
    // Taken after: adopted from the snapshot, describing the same mount.
    MountTable after = MountTable.read();
    MountedOverlay fromSnapshot = overlays.mount(MountRequest.disk("u1", "env", node.lower), after);
    assertThat(fromSnapshot.adopted()).isTrue();
    assertThat(fromSnapshot.spec()).isEqualTo(made.spec());
    assertThat(overlays.mounted(after)).containsOnlyKeys("u1");
    assertThat(node.mountsBeneath().stream().filter(m -> m.source().equals("strata:u1")))
        .hasSize(1);
  }

  @Test
  void aTargetThroughASymlinkIsRefusedAndNothingIsCreatedOutside() throws Exception {
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.createSymbolicLink(node.mountBase.resolve("evil"), outside);
    assertThatThrownBy(
            () ->
                overlays.mount(
                    MountRequest.disk("u1", "env", node.lower)
                        .withTarget(node.mountBase.resolve("evil/x").toString())))
        .isInstanceOfSatisfying(
            MountRefusedException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.UnsafeTarget));
    try (var left = Files.list(outside)) {
      assertThat(left).isEmpty();
    }
    assertThat(overlays.mounted()).isEmpty();
  }

  @Test
  void targetsOutsideTheBaseAreRefused() {
    for (String target :
        new String[] {
          "/etc",
          tmp.resolve("state").toString(),
          node.mountBase + "/../outside",
          node.mountBase + "X/a"
        }) {
      assertThatThrownBy(
              () -> overlays.mount(MountRequest.disk("u1", "env", node.lower).withTarget(target)))
          .as(target)
          .isInstanceOfSatisfying(
              MountRefusedException.class,
              e -> assertThat(e.reason()).isEqualTo(Reason.UnsafeTarget));
    }
  }

  @Test
  void aForeignMountpointIsAConflictAndIsNeverMountedOver() throws Exception {
    Path foreign = Files.createDirectories(node.mountBase.resolve("foreign"));
    Syscalls.get()
        .mount(
            "someone-else",
            foreign.toString(),
            "tmpfs",
            EnumSet.of(MountOption.NO_SUID),
            "size=1m");
    assertThatThrownBy(() -> overlays.mount(MountRequest.disk("u1", "foreign", node.lower)))
        .isInstanceOfSatisfying(
            MountRefusedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.Conflict))
        .hasMessageContaining("someone-else");
    assertThat(MountTable.read().at(foreign))
        .get()
        .extracting(MountInfo::source)
        .isEqualTo("someone-else");
    assertThatThrownBy(
            () ->
                overlays.mount(
                    MountRequest.disk("u2", "x", node.lower)
                        .withTarget(foreign.resolve("inside").toString())))
        .as("beneath a foreign mount")
        .isInstanceOfSatisfying(
            MountRefusedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.Conflict));
  }

  @Test
  void nestedTargetsAndLowersInsideMergedViewsAreConflicts() throws Exception {
    overlays.mount(MountRequest.disk("outer", "outer", node.lower));
    assertThatThrownBy(
            () ->
                overlays.mount(
                    MountRequest.disk("inner", "inner", node.lower)
                        .withTarget(node.mountBase.resolve("outer/inner").toString())))
        .isInstanceOfSatisfying(
            MountRefusedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.Conflict));
    assertThatThrownBy(
            () -> overlays.mount(MountRequest.disk("u2", "other", node.mountBase.resolve("outer"))))
        .isInstanceOfSatisfying(
            MountRefusedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.Conflict));
  }

  @Test
  void optionInjectionIsRefusedBeforeAnySyscall() throws Exception {
    Path sneaky = Files.createDirectories(tmp.resolve("a,upperdir=" + tmp.resolve("x")));
    int before = node.mountsBeneath().size();
    assertThatThrownBy(() -> overlays.mount(MountRequest.disk("u1", "env", sneaky)))
        .isInstanceOfSatisfying(
            MountRefusedException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.UnsafeMountOption));
    assertThat(node.mountsBeneath()).hasSize(before);
  }

  @Test
  void aBusyMountIsReportedWithItsHolderNotForced() throws Exception {
    MountedOverlay mounted = overlays.mount(MountRequest.disk("u1", "env", node.lower));
    Process holder = new ProcessBuilder("sleep", "60").directory(mounted.target().toFile()).start();
    try {
      assertThatThrownBy(() -> overlays.unmount("u1", true))
          .isInstanceOfSatisfying(
              MountRefusedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.Busy))
          .hasMessageContaining("pid " + holder.pid() + " (sleep)");
      assertThat(overlays.mounted()).containsKey("u1");
      assertThat(layout.upperHome("u1")).exists();
    } finally {
      holder.destroy();
      holder.waitFor(10, TimeUnit.SECONDS);
    }
    assertThat(overlays.unmount("u1", true)).containsExactly(mounted.target());
    assertThat(mounted.target()).doesNotExist();
    assertThat(layout.upperHome("u1")).doesNotExist();
    assertThat(overlays.unmount("u1", true)).as("idempotent").isEmpty();
  }

  @Test
  void retainKeepsTheUpper() throws Exception {
    MountedOverlay mounted = overlays.mount(MountRequest.disk("u1", "env", node.lower));
    Files.writeString(mounted.target().resolve("mine"), "x");
    overlays.unmount("u1", false);
    assertThat(mounted.upperDir().resolve("mine")).exists();
  }
}
