package io.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.crd.NodeLayerState.MountPhase;
import io.strata.crd.NodeLayerState.OverlayMountEntry;
import io.strata.crd.OverlayMount;
import io.strata.layout.NodeLayout;
import io.strata.overlay.MountEngine;
import io.strata.overlay.MountInfo;
import io.strata.overlay.MountRefusedException;
import io.strata.overlay.MountRefusedException.Reason;
import io.strata.overlay.MountRequest;
import io.strata.overlay.MountSpec;
import io.strata.overlay.MountTable;
import io.strata.overlay.MountedOverlay;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the agent decides about its node's mounts, against a mount engine of the test's own that
 * records what it is asked: no root, no kernel. NodeMountsTest makes the real mounts.
 */
class NodeMountsDecisionsTest {
  private static final Path ROOT = Path.of("/var/lib/strata/layers/c1/root");
  private static final Path OLD_ROOT = Path.of("/var/lib/strata/layers/c0/root");

  @TempDir Path tmp;
  private NodeLayout layout;
  private RecordingEngine engine;
  private NodeMounts mounts;

  @BeforeEach
  void prepare() {
    layout = new NodeLayout(tmp.resolve("state"), Path.of("/mnt/strata"));
    engine = new RecordingEngine(layout.mountBase());
    mounts = new NodeMounts(engine, layout);
  }

  @Test
  void aMountWaitsForItsLayerSetToBeReadyHere() throws Exception {
    List<OverlayMountEntry> entries =
        mounts.reconcile(List.of(mount("env", "u1", null)), Map.of()); // "ls" is not Ready

    assertThat(entries)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.phase).isEqualTo(MountPhase.Pending);
              assertThat(e.message).contains("waiting for LayerSet ls");
            });
    assertThat(engine.calls).isEmpty();
  }

  @Test
  void aReadyLayerSetsRootIsMountedAndTheEntrySaysWhere() throws Exception {
    List<OverlayMountEntry> entries =
        mounts.reconcile(List.of(mount("env", "u1", null)), ready(ROOT));

    assertThat(engine.calls).containsExactly("mount u1 at /mnt/strata/env on " + ROOT);
    assertThat(entries)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.phase).isEqualTo(MountPhase.Mounted);
              assertThat(e.target).isEqualTo("/mnt/strata/env");
              assertThat(e.lowerdir).isEqualTo(ROOT.toString());
            });
  }

  @Test
  void aMovedTargetIsUnmountedKeepingItsUpperThenMountedWhereAsked() throws Exception {
    engine.mountedAt("u1", Path.of("/mnt/strata/old-place"), ROOT);

    mounts.reconcile(List.of(mount("env", "u1", "/mnt/strata/new-place")), ready(ROOT));

    assertThat(engine.calls)
        .containsExactly(
            "unmount u1 keeping its upper", "mount u1 at /mnt/strata/new-place on " + ROOT);
  }

  @Test
  void anOutdatedMountMovesToTheNewRootOnlyWhenItIsNotBusy() throws Exception {
    engine.mountedAt("u1", Path.of("/mnt/strata/env"), OLD_ROOT);
    engine.busy.add("u1");

    List<OverlayMountEntry> entries =
        mounts.reconcile(List.of(mount("env", "u1", null)), ready(ROOT));

    assertThat(entries)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.phase).isEqualTo(MountPhase.Mounted);
              assertThat(e.reason).isEqualTo("Outdated");
              assertThat(e.lowerdir).isEqualTo(OLD_ROOT.toString());
            });

    engine.busy.clear();
    engine.calls.clear();
    entries = mounts.reconcile(List.of(mount("env", "u1", null)), ready(ROOT));

    assertThat(engine.calls)
        .containsExactly(
            "mount u1 at /mnt/strata/env on " + ROOT,
            "unmount u1 keeping its upper",
            "mount u1 at /mnt/strata/env on " + ROOT);
    assertThat(entries)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.reason).isNull();
              assertThat(e.lowerdir).isEqualTo(ROOT.toString());
            });
  }

  @Test
  void aMountNothingAsksForIsTornDownAsItsRecordedPolicySays() throws Exception {
    OverlayMount retained = mount("keep", "u1", null);
    retained.getSpec().upper = new OverlayMount.Upper();
    retained.getSpec().upper.reclaimPolicy = OverlayMount.ReclaimPolicy.Retain;
    mounts.reconcile(List.of(retained, mount("drop", "u2", null)), ready(ROOT));
    engine.calls.clear();

    List<OverlayMountEntry> entries = mounts.reconcile(List.of(), ready(ROOT));

    assertThat(entries).isEmpty();
    assertThat(engine.calls)
        .containsExactlyInAnyOrder("unmount u1 keeping its upper", "unmount u2 deleting its upper");
  }

  @Test
  void aBusyTeardownIsReportedAsUnmountingAndTriedAgain() throws Exception {
    mounts.reconcile(List.of(mount("env", "u1", null)), ready(ROOT));
    engine.busy.add("u1");

    List<OverlayMountEntry> entries = mounts.reconcile(List.of(), ready(ROOT));

    assertThat(entries)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.name).isEqualTo("env");
              assertThat(e.phase).isEqualTo(MountPhase.Unmounting);
              assertThat(e.reason).isEqualTo("Busy");
            });
    engine.busy.clear();
    assertThat(mounts.reconcile(List.of(), ready(ROOT))).isEmpty();
    assertThat(engine.mounted).isEmpty();
  }

  @Test
  void anUpperWhoseMountWentAwayWhileNothingWasMountedIsRemovedUnlessRetained() throws Exception {
    mounts.reconcile(List.of(mount("env", "u1", null)), ready(ROOT));
    engine.mounted.clear(); // the node rebooted, and the OverlayMount was deleted meanwhile
    engine.calls.clear();

    mounts.reconcile(List.of(), ready(ROOT));

    assertThat(engine.calls).containsExactly("unmount u1 deleting its upper");
  }

  @Test
  void aRefusalFailsThatMountAloneWithItsReason() throws Exception {
    engine.refused.put("u1", new MountRefusedException(Reason.Conflict, "in the way"));

    List<OverlayMountEntry> entries =
        mounts.reconcile(List.of(mount("a", "u1", null), mount("b", "u2", null)), ready(ROOT));

    assertThat(entries)
        .extracting(e -> e.name + " " + e.phase + " " + e.reason)
        .containsExactly("a Failed Conflict", "b Mounted null");
  }

  private static OverlayMount mount(String name, String uid, String target) {
    OverlayMount mount = SelectionTest.mount(name, "ls", null);
    mount.getMetadata().setUid(uid);
    mount.getSpec().target = target;
    return mount;
  }

  private static Map<String, Path> ready(Path root) {
    return Map.of("ls", root);
  }

  /** A node's mounts as a map, and every request written down. */
  private static final class RecordingEngine implements MountEngine {
    final Path base;
    final Map<String, Path[]> mounted = new LinkedHashMap<>(); // uid -> {target, lower}
    final Set<String> busy = new HashSet<>();
    final Map<String, MountRefusedException> refused = new LinkedHashMap<>();
    final List<String> calls = new ArrayList<>();

    RecordingEngine(Path base) {
      this.base = base;
    }

    void mountedAt(String uid, Path target, Path lower) {
      mounted.put(uid, new Path[] {target, lower});
    }

    @Override
    public MountTable readMountTable() {
      StringBuilder lines = new StringBuilder("1 0 8:1 / / rw - ext4 /dev/vda rw\n");
      int id = 100;
      for (Map.Entry<String, Path[]> m : mounted.entrySet()) {
        lines
            .append(id++)
            .append(" 1 0:1 / ")
            .append(m.getValue()[0])
            .append(" rw shared:1 - overlay strata:")
            .append(m.getKey())
            .append(" rw,lowerdir=")
            .append(m.getValue()[1])
            .append('\n');
      }
      return MountTable.parse(lines.toString());
    }

    @Override
    public Map<String, MountInfo> mounted(MountTable table) {
      Map<String, MountInfo> byUid = new LinkedHashMap<>();
      for (MountInfo m : table.mounts()) {
        if (m.source().startsWith("strata:") && m.mountPoint().startsWith(base)) {
          byUid.put(m.source().substring("strata:".length()), m);
        }
      }
      return byUid;
    }

    @Override
    public MountedOverlay mount(MountRequest request) throws MountRefusedException {
      return mount(request, null);
    }

    @Override
    public MountedOverlay mount(MountRequest request, MountTable snapshot)
        throws MountRefusedException {
      Path target =
          request.target() != null ? Path.of(request.target()) : base.resolve(request.name());
      calls.add("mount " + request.uid() + " at " + target + " on " + request.lowerRoot());
      MountRefusedException refusal = refused.get(request.uid());
      if (refusal != null) {
        throw refusal;
      }
      Path[] existing = mounted.get(request.uid());
      boolean adopted = existing != null;
      Path lower = adopted ? existing[1] : request.lowerRoot();
      if (!adopted) {
        mountedAt(request.uid(), target, lower);
      }
      MountSpec spec =
          new MountSpec(
              "strata:" + request.uid(), target, "overlay", Set.of(), "lowerdir=" + lower);
      return new MountedOverlay(
          request.uid(),
          target,
          spec,
          null,
          null,
          adopted,
          adopted && !lower.equals(request.lowerRoot()) ? lower : null);
    }

    @Override
    public List<Path> unmount(String uid, boolean deleteUpper, MountTable snapshot)
        throws MountRefusedException {
      return unmount(uid, deleteUpper);
    }

    @Override
    public List<Path> unmount(String uid, boolean deleteUpper) throws MountRefusedException {
      calls.add("unmount " + uid + (deleteUpper ? " deleting its upper" : " keeping its upper"));
      if (busy.contains(uid)) {
        throw new MountRefusedException(Reason.Busy, uid + " is busy");
      }
      Path[] removed = mounted.remove(uid);
      return removed == null ? List.of() : List.of(removed[0]);
    }
  }
}
