package io.strata.csi;

import io.strata.csi.VolumeRefusedException.Code;
import io.strata.layout.NodeLayout;
import io.strata.overlay.MountInfo;
import io.strata.overlay.MountPlan;
import io.strata.overlay.MountRefusedException;
import io.strata.overlay.MountSpec;
import io.strata.overlay.MountStep;
import io.strata.overlay.MountStep.CreateDirectories;
import io.strata.overlay.MountStep.CreatePrivateDirectory;
import io.strata.overlay.MountStep.MountDiskImage;
import io.strata.overlay.MountStep.MountOverlay;
import io.strata.overlay.MountStep.MountTmpfs;
import io.strata.overlay.MountStep.RequireEmptyDirectory;
import io.strata.overlay.MountStep.RequireLowerDirectory;
import io.strata.overlay.MountStep.ShareWithGroup;
import io.strata.overlay.MountTable;
import io.strata.overlay.MountedOverlay;
import io.strata.overlay.OverlayPlanner;
import io.strata.overlay.OverlayRequest;
import io.strata.sys.MountOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Decides what publishing a pod volume takes, from the request, the node's layout and the mount
 * table: the same {@link MountStep}s the OverlayMount planner makes, for the mount engine to carry
 * out. Pure: every decision tests without root.
 *
 * <p>A volume's overlay has the source {@code strata-csi:<volume id>}, so a restarted agent tells
 * it from OverlayMounts. Its upper lies on a file system of the volume's own size, mounted at
 * {@link NodeLayout#volumeFs}: a tmpfs (Memory, source {@code strata-csi-upper:<volume id>}) or an
 * ext4 in a sparse file on a loop device (Disk): the kernel holds the volume to its size either
 * way.
 */
public final class VolumePlanner {
  public static final String SOURCE_PREFIX = "strata-csi:";
  public static final String UPPER_SOURCE_PREFIX = "strata-csi-upper:";

  /** kubelet names inline volumes {@code csi-<sha256 hex>}; a path name and a mount source. */
  private static final Pattern VOLUME_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

  private final NodeLayout node;
  private final CsiLayout csi;

  public VolumePlanner(NodeLayout node, CsiLayout csi) {
    this.node = node;
    this.csi = csi;
  }

  /** What publishing takes: nothing when the table shows this volume at the target already. */
  public Optional<MountPlan> plan(VolumeRequest request, Path lower, MountTable table)
      throws VolumeRefusedException {
    Path target = target(request.targetPath());
    String id = volumeId(request.volumeId());
    Optional<MountInfo> existing = table.at(target);
    if (existing.isPresent()) {
      if (isVolume(existing.get(), id)) {
        return Optional.empty();
      }
      throw new VolumeRefusedException(
          Code.ALREADY_EXISTS,
          "target " + target + " is already a mountpoint (" + existing.get().source() + ")");
    }
    Optional<MountInfo> elsewhere =
        table.mounts().stream().filter(m -> isVolume(m, id)).findFirst();
    if (elsewhere.isPresent()) {
      throw new VolumeRefusedException(
          Code.FAILED_PRECONDITION,
          "volume " + id + " is already published at " + elsewhere.get().mountPoint());
    }
    Path home = node.volumeHome(id);
    List<MountStep> steps = new ArrayList<>();
    steps.add(new RequireLowerDirectory(lower));
    steps.add(new CreateDirectories(node.volumes()));
    steps.add(new CreatePrivateDirectory(home, null)); // holds its record, read-only or not
    OverlayRequest overlay;
    if (request.readOnly()) {
      steps.add(new RequireEmptyDirectory(node.emptyLower()));
      overlay = OverlayRequest.readOnly(null, target, lower, node.emptyLower());
    } else {
      Path fs = node.volumeFs(id);
      long bytes = request.attributes().sizeLimit();
      steps.add(
          request.attributes().medium() == VolumeAttributes.Medium.Memory
              ? new MountTmpfs(tmpfs(id, fs, bytes), node.volumes())
              : new MountDiskImage(node.volumeImage(id), bytes, fs, node.volumes()));
      Path upper = fs.resolve(NodeLayout.UPPER);
      Path work = fs.resolve(NodeLayout.WORK);
      steps.add(new CreatePrivateDirectory(upper, lower));
      if (request.volumeMountGroup() != null) {
        steps.add(new ShareWithGroup(upper, request.volumeMountGroup()));
      }
      steps.add(new CreatePrivateDirectory(work, null));
      overlay = OverlayRequest.writable(null, target, lower, upper, work);
    }
    MountSpec spec;
    try {
      spec = OverlayPlanner.plan(overlay, SOURCE_PREFIX + id);
    } catch (MountRefusedException e) {
      throw new VolumeRefusedException(Code.INTERNAL, e.getMessage(), e);
    }
    steps.add(new MountOverlay(spec, csi.podsDir()));
    return Optional.of(
        new MountPlan(
            steps,
            new MountedOverlay(
                id, target, spec, overlay.upperDir(), overlay.workDir(), false, null)));
  }

  /** The checked volume id: it names a directory and a mount source. */
  public static String volumeId(String id) throws VolumeRefusedException {
    if (id == null || !VOLUME_ID.matcher(id).matches()) {
      throw new VolumeRefusedException(
          Code.INVALID_ARGUMENT,
          "volume id \""
              + (id == null ? "" : id.substring(0, Math.min(id.length(), 64)))
              + "\" is not 1-128 of [A-Za-z0-9_.-] starting with a letter or digit");
    }
    return id;
  }

  /** The checked target: absolute, normalized and strictly beneath kubelet's pods directory. */
  public Path target(String target) throws VolumeRefusedException {
    if (target == null || target.isEmpty()) {
      throw new VolumeRefusedException(Code.INVALID_ARGUMENT, "target path is missing");
    }
    Path path = Path.of(target);
    if (!path.isAbsolute()
        || !path.normalize().equals(path)
        || target.contains("//")
        || target.endsWith("/")) {
      throw new VolumeRefusedException(
          Code.INVALID_ARGUMENT, "target path " + target + " is not an absolute, normalized path");
    }
    if (!path.startsWith(csi.podsDir()) || path.getNameCount() <= csi.podsDir().getNameCount()) {
      throw new VolumeRefusedException(
          Code.INVALID_ARGUMENT,
          "target path " + target + " is not beneath kubelet's pods directory " + csi.podsDir());
    }
    return path;
  }

  /** Whether {@code mount} is volume {@code id}'s overlay. */
  public static boolean isVolume(MountInfo mount, String id) {
    return "overlay".equals(mount.fsType()) && mount.source().equals(SOURCE_PREFIX + id);
  }

  /** Whether {@code mount} is volume {@code id}'s upper file system. */
  public boolean isVolumeUpper(MountInfo mount, String id) {
    return mount.mountPoint().equals(node.volumeFs(id));
  }

  private static MountSpec tmpfs(String id, Path home, long bytes) {
    return new MountSpec(
        UPPER_SOURCE_PREFIX + id,
        home,
        "tmpfs",
        EnumSet.of(MountOption.NO_SUID, MountOption.NO_DEV),
        "size=" + bytes + ",mode=0700");
  }
}
