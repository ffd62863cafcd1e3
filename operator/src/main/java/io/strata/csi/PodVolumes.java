package io.strata.csi;

import io.strata.csi.VolumeRefusedException.Code;
import io.strata.layout.NodeLayout;
import io.strata.layout.Trees;
import io.strata.overlay.MountPlan;
import io.strata.overlay.MountRefusedException;
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
import java.util.Optional;

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
  private final long maxBytes;
  private final VolumePlanner planner;

  /** Calls for one volume id take the same lock; bounded however many volumes come and go. */
  private final Object[] locks = new Object[64];

  /**
   * @param maxBytes the largest {@code sizeLimit} a volume may ask for
   */
  public PodVolumes(
      NodeLayout node,
      CsiLayout csi,
      Overlays engine,
      Syscalls sys,
      LayerSetRoots roots,
      long maxBytes) {
    this.node = node;
    this.csi = csi;
    this.engine = engine;
    this.sys = sys;
    this.roots = roots;
    this.maxBytes = maxBytes;
    this.planner = new VolumePlanner(node, csi);
    for (int i = 0; i < locks.length; i++) {
      locks[i] = new Object();
    }
  }

  public CsiLayout layout() {
    return csi;
  }

  /** The largest {@code sizeLimit} this node accepts, for parsing a request's attributes. */
  public long maxBytes() {
    return maxBytes;
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
      if (plan.isEmpty()) {
        return;
      }
      try {
        engine.execute(plan.get());
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

  private Object lock(String id) {
    return locks[Math.floorMod(id.hashCode(), locks.length)];
  }

  /** Takes away a volume's upper: its Memory tmpfs, if mounted, then its directory. */
  private void discardUpper(String id) {
    try {
      engine.unmountAll(node.volumes(), m -> VolumePlanner.isVolumeUpper(m, id));
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
