package io.strata.agent;

import io.strata.crd.AgentReason;
import io.strata.crd.ByteQuantity;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.MountPhase;
import io.strata.crd.NodeLayerState.OverlayMountEntry;
import io.strata.crd.OverlayMount;
import io.strata.layout.NodeLayout;
import io.strata.layout.RecordFile;
import io.strata.overlay.MountEngine;
import io.strata.overlay.MountInfo;
import io.strata.overlay.MountRefusedException;
import io.strata.overlay.MountRefusedException.Reason;
import io.strata.overlay.MountRequest;
import io.strata.overlay.MountTable;
import io.strata.overlay.MountedOverlay;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings this node's overlays in line with the OverlayMounts it serves: mounts (or adopts) each
 * whose LayerSet is Ready here, and unmounts Strata mounts nothing asks for any more. It is only
 * called with complete, synced caches, so "nothing asks for it" is evidence, not an outage.
 */
final class NodeMounts {
  private static final Logger log = LoggerFactory.getLogger(NodeMounts.class);

  private final MountEngine overlays;
  private final NodeLayout layout;

  NodeMounts(MountEngine overlays, NodeLayout layout) {
    this.overlays = overlays;
    this.layout = layout;
  }

  /** Entries for the served mounts, plus Unmounting entries for teardowns still blocked. */
  List<OverlayMountEntry> reconcile(List<OverlayMount> served, Map<String, Path> readyRoots)
      throws IOException {
    return reconcile(served, readyRoots, overlays.readMountTable());
  }

  /**
   * As {@link #reconcile(List, Map)}, given {@code table}, what was mounted when the pass began:
   * for moved targets, for adopting what is already mounted, and for teardown. The engine reads the
   * table again for each mount it makes, so its checks never act on a stale view.
   */
  List<OverlayMountEntry> reconcile(
      List<OverlayMount> served, Map<String, Path> readyRoots, MountTable table)
      throws IOException {
    List<OverlayMountEntry> entries = new ArrayList<>();
    Set<String> wanted = new HashSet<>();
    Map<String, MountInfo> before = overlays.mounted(table);
    // Within the bound, what is mounted comes first, then the oldest: a new OverlayMount never
    // pushes one that is mounted out of the report.
    List<OverlayMount> byName =
        served.stream()
            .sorted(
                Comparator.<OverlayMount, Boolean>comparing(
                        m -> !before.containsKey(m.getMetadata().getUid()))
                    .thenComparing(
                        m -> Objects.requireNonNullElse(m.getMetadata().getCreationTimestamp(), ""))
                    .thenComparing(m -> m.getMetadata().getName()))
            .toList();
    for (OverlayMount mount : byName) {
      // Beyond the limit a mount is still wanted (never torn down) but not made or listed.
      wanted.add(mount.getMetadata().getUid());
      if (entries.size() < NodeLayerState.MAX_ENTRIES) {
        entries.add(
            mountOne(mount, readyRoots.get(mount.getSpec().layerSetRef.name), before, table));
      }
    }
    if (byName.size() > NodeLayerState.MAX_ENTRIES) {
      log.warn(
          "{} OverlayMounts select this node; those mounted and then the oldest {} are served",
          byName.size(),
          NodeLayerState.MAX_ENTRIES);
    }
    for (Map.Entry<String, MountInfo> mounted : before.entrySet()) {
      if (!wanted.contains(mounted.getKey())) {
        OverlayMountEntry blocked = tearDown(mounted.getKey(), table);
        if (blocked != null && entries.size() < NodeLayerState.MAX_ENTRIES) {
          entries.add(blocked);
        }
      }
    }
    removeStrayUppers(wanted, before.keySet(), table);
    return entries;
  }

  /**
   * An upper whose OverlayMount went away while nothing was mounted from it (deleted while the node
   * was rebooting, say) has no mount to tear down: it goes now, as its policy says, or it would
   * stay on the disk for good. Only uppers the agent recorded: one without a record is not an
   * OverlayMount's (`strata unmount --retain-upper` leaves such uppers on purpose).
   */
  private void removeStrayUppers(Set<String> wanted, Set<String> mounted, MountTable table)
      throws IOException {
    Path uppers = layout.uppers();
    if (!Files.isDirectory(uppers)) {
      return;
    }
    List<String> uids;
    try (var homes = Files.list(uppers)) {
      uids = homes.map(home -> home.getFileName().toString()).toList();
    }
    for (String uid : uids) {
      if (wanted.contains(uid)
          || mounted.contains(uid)
          || RecordFile.read(layout.mountRecord(uid)) == null) {
        continue;
      }
      String[] recorded = readRecord(uid);
      if ("Retain".equals(recorded[1])) {
        continue;
      }
      try {
        overlays.unmount(uid, true, table); // nothing of it is mounted, but a Memory upper's tmpfs
        log.info(
            "removed the upper of {} ({}): nothing asks for it on this node", recorded[0], uid);
      } catch (MountRefusedException | IllegalArgumentException e) {
        log.warn("left {} in {}: {}", uid, uppers, e.getMessage()); // not a uid, or busy
      }
    }
  }

  private OverlayMountEntry mountOne(
      OverlayMount mount, Path root, Map<String, MountInfo> before, MountTable table)
      throws IOException {
    String name = mount.getMetadata().getName();
    if (root == null) {
      return entry(
          name,
          MountPhase.Pending,
          null,
          "waiting for LayerSet " + mount.getSpec().layerSetRef.name + " to be Ready on this node");
    }
    String uid = mount.getMetadata().getUid();
    try {
      MountRequest request = request(mount, root);
      MountInfo current = before.get(uid);
      if (current != null && !current.mountPoint().equals(targetOf(mount))) {
        overlays.unmount(uid, false, table); // the target moved: the upper goes along
      }
      record(uid, mount);
      MountedOverlay mounted = overlays.mount(request, table);
      if (mounted.adopted() && mounted.previousLower() != null) {
        mounted = remountOnNewLower(uid, request, mounted);
        if (mounted.adopted()) {
          return mounted(
              name,
              mounted,
              AgentReason.Outdated.name(),
              "still on "
                  + mounted.previousLower()
                  + ": moves to the new root once it is not busy");
        }
      }
      return mounted(name, mounted, null, null);
    } catch (MountRefusedException e) {
      return entry(name, MountPhase.Failed, e.reason().name(), e.getMessage());
    } catch (IllegalArgumentException e) {
      return entry(name, MountPhase.Failed, AgentReason.InvalidSpec.name(), e.getMessage());
    } catch (IOException e) {
      // This mount's failure, tried again next pass; never the other mounts'.
      log.warn("mounting {} failed: {}", name, e.getMessage());
      return entry(name, MountPhase.Failed, AgentReason.IOError.name(), e.getMessage());
    } catch (RuntimeException e) {
      log.warn("mounting {} failed unexpectedly", name, e);
      return entry(name, MountPhase.Failed, AgentReason.InternalError.name(), String.valueOf(e));
    }
  }

  /** A mount never leaves its users: it moves only when it can be unmounted without EBUSY. */
  private MountedOverlay remountOnNewLower(String uid, MountRequest request, MountedOverlay old)
      throws IOException, MountRefusedException {
    try {
      overlays.unmount(uid, false);
    } catch (MountRefusedException e) {
      if (e.reason() == Reason.Busy) {
        return old;
      }
      throw e;
    }
    return overlays.mount(request);
  }

  private OverlayMountEntry tearDown(String uid, MountTable table) {
    String name = uid;
    try {
      String[] recorded = readRecord(uid);
      name = recorded[0];
      boolean retain = "Retain".equals(recorded[1]);
      overlays.unmount(uid, !retain, table);
      log.info("unmounted {} ({}), upper {}", name, uid, retain ? "retained" : "deleted");
      return null;
    } catch (MountRefusedException e) {
      return entry(name, MountPhase.Unmounting, e.reason().name(), e.getMessage());
    } catch (IOException e) {
      log.warn("tearing down {} ({}) failed, tried again next pass: {}", name, uid, e.getMessage());
      return entry(name, MountPhase.Unmounting, AgentReason.IOError.name(), e.getMessage());
    }
  }

  private MountRequest request(OverlayMount mount, Path lower) {
    OverlayMount.Spec spec = mount.getSpec();
    long memory = 0;
    long disk = 0;
    if (spec.upper != null && spec.upper.sizeLimit != null) {
      long bytes = ByteQuantity.parse("spec.upper.sizeLimit", spec.upper.sizeLimit);
      if (spec.upper.medium == OverlayMount.Medium.Memory) {
        memory = bytes;
      } else {
        disk = bytes;
      }
    }
    MountRequest request =
        new MountRequest(
            mount.getMetadata().getUid(),
            mount.getMetadata().getName(),
            spec.target,
            lower,
            Boolean.TRUE.equals(spec.readOnly),
            memory,
            disk,
            spec.options != null && Boolean.TRUE.equals(spec.options.volatileUpper),
            spec.options == null ? null : spec.options.seLinuxContext);
    return request;
  }

  private Path targetOf(OverlayMount mount) {
    return mount.getSpec().target != null
        ? Path.of(mount.getSpec().target)
        : layout.defaultTarget(mount.getMetadata().getName());
  }

  private void record(String uid, OverlayMount mount) throws IOException {
    OverlayMount.Upper upper = mount.getSpec().upper;
    String policy =
        upper != null && upper.reclaimPolicy == OverlayMount.ReclaimPolicy.Retain
            ? "Retain"
            : "Delete";
    Path file = layout.mountRecord(uid);
    Files.createDirectories(file.getParent());
    RecordFile.replace(file, mount.getMetadata().getName() + "\n" + policy + "\n");
  }

  private String[] readRecord(String uid) throws IOException {
    String record = RecordFile.read(layout.mountRecord(uid));
    if (record == null) {
      return new String[] {uid, "Delete"};
    }
    List<String> lines = record.lines().toList();
    return new String[] {
      lines.isEmpty() ? uid : lines.get(0), lines.size() < 2 ? "Delete" : lines.get(1)
    };
  }

  private static OverlayMountEntry mounted(
      String name, MountedOverlay mounted, String reason, String message) {
    OverlayMountEntry entry = entry(name, MountPhase.Mounted, reason, message);
    entry.target = mounted.target().toString();
    entry.lowerdir = lowerdirOf(mounted.spec().data());
    entry.upperdir = mounted.upperDir() == null ? null : mounted.upperDir().toString();
    entry.workdir = mounted.workDir() == null ? null : mounted.workDir().toString();
    entry.options = mounted.spec().data();
    return entry;
  }

  private static String lowerdirOf(String data) {
    for (String option : data.split(",")) {
      if (option.startsWith("lowerdir=")) {
        return option.substring("lowerdir=".length());
      }
    }
    return null;
  }

  private static OverlayMountEntry entry(
      String name, MountPhase phase, String reason, String message) {
    OverlayMountEntry entry = new OverlayMountEntry();
    entry.name = name;
    entry.phase = phase;
    entry.reason = reason;
    entry.message = message;
    return entry;
  }
}
