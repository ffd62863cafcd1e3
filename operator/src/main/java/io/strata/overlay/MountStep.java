package io.strata.overlay;

import java.nio.file.Path;

/**
 * One step of a {@link MountPlan}, as data: what {@link MountPlanner} decides and {@link Overlays}
 * carries out, in order.
 */
public sealed interface MountStep {
  /** The lower root must be a directory (not a symlink): checked on the node before anything. */
  record RequireLowerDirectory(Path lower) implements MountStep {}

  /** Directories Strata owns that may be missing (the mount base, the uppers' parent). */
  record CreateDirectories(Path dir) implements MountStep {}

  /**
   * A directory only root may enter (0700). When it is made now and {@code ownerFrom} is set, it
   * takes that directory's owner and mode: the merged root shows the upper's attributes.
   */
  record CreatePrivateDirectory(Path dir, Path ownerFrom) implements MountStep {}

  /** The empty second lower of a read-only mount: made if missing, refused unless empty. */
  record RequireEmptyDirectory(Path dir) implements MountStep {}

  /**
   * Gives {@code dir} (an upper's top directory, which the merged root shows) to group {@code gid}
   * with group write and setgid, so that a pod's fsGroup may write: only that directory, never a
   * recursive chown of the tree.
   */
  record ShareWithGroup(Path dir, int gid) implements MountStep {}

  /** A Memory upper's tmpfs, onto its directory opened beneath {@code beneath}. */
  record MountTmpfs(MountSpec spec, Path beneath) implements MountStep {}

  /**
   * A Disk upper the kernel caps: an ext4 of {@code bytes} in the sparse file {@code image} ({@link
   * DiskImage}), on a loop device, mounted at {@code target} opened beneath {@code beneath}.
   */
  record MountDiskImage(Path image, long bytes, Path target, Path beneath) implements MountStep {}

  /** Records the lower the upper is mounted on, next to the upper. */
  record RecordLower(Path record, Path lower) implements MountStep {}

  /**
   * The overlay itself, onto its target opened beneath {@code beneath} (the mount base, or
   * kubelet's pods directory for a pod volume). The last step.
   */
  record MountOverlay(MountSpec spec, Path beneath) implements MountStep {}
}
