package io.strata.csi;

import io.strata.csi.VolumeRefusedException.Code;
import io.strata.layout.NodeLayout;
import io.strata.layout.RecordFile;
import io.strata.layout.Trees;
import io.strata.overlay.MountPlan;
import io.strata.overlay.MountRefusedException;
import io.strata.overlay.MountTable;
import io.strata.overlay.Overlays;
import io.strata.sys.FsStat;
import io.strata.sys.SyscallException;
import io.strata.sys.Syscalls;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The node's pod volumes: publishes each as an overlay of its LayerSet's root with an upper of its
 * own, and unpublishes it, removing the upper. {@link VolumePlanner} decides, the mount engine
 * ({@link Overlays}) carries out. Calls for one volume id run one at a time; every call is
 * idempotent, as kubelet retries them, also after an agent restart.
 */
public final class PodVolumes {
  private final NodeLayout node;
  private final CsiLayout csi;
  private final Overlays engine;
  private final Syscalls sys;
  private final LayerSetRoots roots;
  private final VolumeAttributes.Sizes sizes;
  private final Runnable changed;
  private final VolumePlanner planner;

  /** Calls for one volume id take the same lock; bounded however many volumes come and go. */
  private final Object[] locks = new Object[64];

  /**
   * @param sizes the default and the largest size of a volume's upper
   * @param changed told after a volume was mounted or unmounted: the node's counts changed
   */
  public PodVolumes(
      NodeLayout node,
      CsiLayout csi,
      Overlays engine,
      Syscalls sys,
      LayerSetRoots roots,
      VolumeAttributes.Sizes sizes,
      Runnable changed) {
    this.node = node;
    this.csi = csi;
    this.engine = engine;
    this.sys = sys;
    this.roots = roots;
    this.sizes = sizes;
    this.changed = changed;
    this.planner = new VolumePlanner(node, csi);
    for (int i = 0; i < locks.length; i++) {
      locks[i] = new Object();
    }
  }

  public CsiLayout layout() {
    return csi;
  }

  /** The sizes this node allows, for parsing a request's attributes. */
  public VolumeAttributes.Sizes sizes() {
    return sizes;
  }

  /** Mounts the volume at its target, or does nothing when it is mounted there already. */
  public void publish(VolumeRequest request) throws VolumeRefusedException {
    String id = VolumePlanner.volumeId(request.volumeId());
    planner.target(request.targetPath());
    synchronized (lock(id)) {
      Path lower =
          roots.rootFor(request.attributes().layerSet(), request.attributes().podNamespace());
      Optional<MountPlan> plan;
      try {
        plan = planner.plan(request, lower, engine.readMountTable());
      } catch (IOException e) {
        throw internal("reading the mount table", e);
      }
      if (plan.isPresent()) {
        if (request.attributes().medium() == VolumeAttributes.Medium.Disk && !request.readOnly()) {
          requireSpace(request.attributes().sizeLimit());
        }
        execute(plan.get(), id, request);
      }
      try {
        RecordFile.replace(node.volumeRecord(id), request.attributes().layerSet() + "\n");
      } catch (IOException e) {
        throw internal("recording which LayerSet volume " + id + " mounts", e);
      }
    }
    changed.run();
  }

  /** Carries a new volume's plan out; on failure takes away what it made of the upper. */
  private void execute(MountPlan plan, String id, VolumeRequest request)
      throws VolumeRefusedException {
    try {
      engine.execute(plan);
    } catch (MountRefusedException | IOException | RuntimeException e) {
      discardUpper(id);
      throw switch (e) {
        case MountRefusedException refused
            when refused.reason() == MountRefusedException.Reason.UnsafeTarget ->
            new VolumeRefusedException(Code.INVALID_ARGUMENT, refused.getMessage(), e);
        case MountRefusedException refused
            when refused.reason() == MountRefusedException.Reason.LowerMissing ->
            new VolumeRefusedException(
                Code.UNAVAILABLE,
                "LayerSet "
                    + request.attributes().layerSet()
                    + "'s root is gone from this node: "
                    + refused.getMessage(),
                e);
        default -> internal("mounting volume " + id, e);
      };
    }
  }

  /**
   * Unmounts the volume from its target and removes its upper; succeeds when neither is there (a
   * repeated call, or one after the agent restarted).
   */
  public void unpublish(String volumeId, String targetPath) throws VolumeRefusedException {
    String id = VolumePlanner.volumeId(volumeId);
    Path target = planner.target(targetPath);
    synchronized (lock(id)) {
      try {
        engine.unmountAll(
            csi.podsDir(), m -> m.mountPoint().equals(target) && VolumePlanner.isVolume(m, id));
        removeEmptyTarget(target);
      } catch (MountRefusedException | IOException e) {
        throw internal("unmounting volume " + id + " from " + target, e);
      }
      try {
        discardUpper(id);
      } catch (RuntimeException e) {
        throw internal("removing volume " + id + "'s upper", e);
      }
    }
    changed.run();
  }

  /**
   * Removes what volumes left under the state dir whose overlay is mounted nowhere: a node that
   * went down with pods on it, whose mounts went with it. For the agent's start, before the plugin
   * serves: a volume being published has no overlay yet either.
   *
   * @return the volume ids removed
   */
  public List<String> removeOrphans() throws IOException {
    Set<String> mounted = mountedVolumeIds(engine.readMountTable());
    List<String> removed = new ArrayList<>();
    if (!Files.isDirectory(node.volumes())) {
      return removed;
    }
    try (Stream<Path> homes = Files.list(node.volumes())) {
      for (Path home : homes.toList()) {
        String id = home.getFileName().toString();
        if (!mounted.contains(id)) {
          synchronized (lock(id)) {
            discardUpper(id);
          }
          removed.add(id);
        }
      }
    }
    return removed;
  }

  private static Set<String> mountedVolumeIds(MountTable table) {
    return table.mounts().stream()
        .filter(m -> "overlay".equals(m.fsType()))
        .filter(m -> m.source().startsWith(VolumePlanner.SOURCE_PREFIX))
        .map(m -> m.source().substring(VolumePlanner.SOURCE_PREFIX.length()))
        .collect(Collectors.toSet());
  }

  /**
   * How many mounted volumes use each LayerSet, from the volumes' records under {@code node} and
   * {@code table} (the agent's pass reads it once): what the node reports, and what holds a
   * LayerSet on the node.
   */
  public static Map<String, Integer> volumesPerLayerSet(NodeLayout node, MountTable table)
      throws IOException {
    Set<String> mounted = mountedVolumeIds(table);
    Map<String, Integer> counts = new TreeMap<>();
    if (mounted.isEmpty() || !Files.isDirectory(node.volumes())) {
      return counts;
    }
    try (Stream<Path> homes = Files.list(node.volumes())) {
      for (Path home : homes.toList()) {
        String id = home.getFileName().toString();
        String layerSet = mounted.contains(id) ? RecordFile.read(node.volumeRecord(id)) : null;
        if (layerSet != null && !layerSet.isBlank()) {
          counts.merge(layerSet.strip(), 1, Integer::sum);
        }
      }
    }
    return counts;
  }

  /** Space and inodes of the volume's upper (what the pod can write), through its target. */
  public FsStat usage(String volumeId, String volumePath) throws VolumeRefusedException {
    String id = VolumePlanner.volumeId(volumeId);
    if (volumePath == null || volumePath.isEmpty()) {
      throw new VolumeRefusedException(Code.INVALID_ARGUMENT, "volume path is missing");
    }
    Path target = Path.of(volumePath).toAbsolutePath().normalize();
    try {
      if (engine.readMountTable().at(target).filter(m -> VolumePlanner.isVolume(m, id)).isEmpty()) {
        throw new VolumeRefusedException(
            Code.NOT_FOUND, "volume " + id + " is not mounted at " + target);
      }
      return sys.statfs(target);
    } catch (IOException e) {
      throw internal("reading volume " + id + "'s usage", e);
    }
  }

  /**
   * A Disk upper's image is sparse and fills as the pod writes: its whole size must fit in what the
   * state dir's file system has free, less the reserve the cache keeps.
   */
  private void requireSpace(long bytes) throws VolumeRefusedException {
    long free;
    try {
      free = sys.statfs(node.stateDir()).availableBytes();
    } catch (SyscallException e) {
      throw internal("reading the free space of " + node.stateDir(), e);
    }
    if (bytes > free - FREE_SPACE_RESERVE) {
      throw new VolumeRefusedException(
          Code.RESOURCE_EXHAUSTED,
          "a Disk volume of "
              + bytes
              + " bytes does not fit: "
              + free
              + " bytes are free under "
              + node.stateDir()
              + ", of which "
              + FREE_SPACE_RESERVE
              + " stay free");
    }
  }

  /** What a Disk volume may not take of the state dir's free space. */
  static final long FREE_SPACE_RESERVE = 256L << 20;

  private Object lock(String id) {
    return locks[Math.floorMod(id.hashCode(), locks.length)];
  }

  /** Takes away a volume's upper: its file system, if mounted here, then its directory. */
  private void discardUpper(String id) {
    try {
      engine.unmountAll(node.volumes(), m -> planner.isVolumeUpper(m, id));
      Trees.deleteViaTrash(node.volumeHome(id), node.store().trash());
    } catch (MountRefusedException | IOException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  /** kubelet expects the target gone after unpublish; never removes anything but an empty dir. */
  private static void removeEmptyTarget(Path target) throws IOException {
    if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
      try {
        Files.delete(target);
      } catch (DirectoryNotEmptyException | NoSuchFileException e) {
        // not empty (not Strata's to remove) or already gone
      }
    }
  }

  private static VolumeRefusedException internal(String doing, Exception e) {
    String detail = e instanceof SyscallException ? e.getMessage() : String.valueOf(e.getMessage());
    return new VolumeRefusedException(Code.INTERNAL, doing + " failed: " + detail, e);
  }
}
