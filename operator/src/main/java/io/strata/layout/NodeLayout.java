package io.strata.layout;

import java.nio.file.Path;

/**
 * Where everything Strata keeps on a node lives. The whole on-disk contract is this class and
 * {@link StoreLayout}, the layer store's part of it ({@code LayoutTest} asserts every path):
 *
 * <pre>
 * &lt;state dir&gt;/                  default /var/lib/strata
 *   .lock                        flock: one agent per node
 *   ingest/                      partial downloads                                   (store)
 *   blobs/sha256/&lt;hex&gt;           verified blobs, only while needed                   (store)
 *   staging/&lt;key&gt;-&lt;n&gt;/          private (0700) trees being built; emptied at start  (store)
 *   staging/&lt;key&gt;.lock          one build of a layer at a time                      (store)
 *   layers/&lt;chain hex&gt;/root      committed roots, never modified again               (store)
 *   layers/&lt;chain hex&gt;/layer.json  what built it: diffIDs, blob digests, files, bytes (store)
 *   diffids/sha256/&lt;blob hex&gt;   the diffID a verified blob unpacked to              (store)
 *   trash/                       removals in progress; emptied at start              (store)
 *   uppers/&lt;uid&gt;/upper, work    Disk upper of a mount, on the state dir's filesystem
 *   uppers/&lt;uid&gt;/disk.img       a Disk upper with a sizeLimit: an ext4 of that size in a sparse
 *   uppers/&lt;uid&gt;/fs/upper, work  file, mounted from a loop device at fs/
 *   uppers/&lt;uid&gt;/lower          the lower root the upper was last mounted on
 *   uppers/&lt;uid&gt;/mount          the OverlayMount's name and reclaim policy, for teardown
 *   empty/                       the empty second lowerdir of read-only mounts
 *   volumes/&lt;volume id&gt;/       a pod volume's upper; removed when the volume is unpublished
 *     layerset                   the name of the LayerSet it mounts, for the node's counts
 *     disk.img                   Disk: a sparse file holding an ext4 of the volume's size
 *     fs/                        that ext4 on a loop device (Disk) or a tmpfs (Memory)
 *       upper/, work/            the overlay's upper and work directories
 * &lt;mount base&gt;/                 default /mnt/strata: a shared mount
 *   &lt;name&gt;/                     the merged view of a mount (default target)
 *   .uppers/&lt;uid&gt;/              tmpfs of a Memory upper, holding upper/ and work/
 * </pre>
 */
public record NodeLayout(Path stateDir, Path mountBase) {
  public static final String LOCK_FILE = ".lock";
  public static final String UPPERS = "uppers";
  public static final String UPPER = "upper";
  public static final String WORK = "work";
  public static final String LOWER_RECORD = "lower";
  public static final String MOUNT_RECORD = "mount";
  public static final String EMPTY = "empty";
  public static final String MEMORY_UPPERS = ".uppers";
  public static final String VOLUMES = "volumes";
  public static final String VOLUME_IMAGE = "disk.img";
  public static final String VOLUME_RECORD = "layerset";
  public static final String VOLUME_FS = "fs";

  public NodeLayout {
    stateDir = stateDir.toAbsolutePath().normalize();
    mountBase = mountBase.toAbsolutePath().normalize();
  }

  /** The layer store's part of the state dir. */
  public StoreLayout store() {
    return new StoreLayout(stateDir);
  }

  public Path lockFile() {
    return stateDir.resolve(LOCK_FILE);
  }

  /** The uppers of all mounts: {@code uppers/}. */
  public Path uppers() {
    return stateDir.resolve(UPPERS);
  }

  /** Holds the upper of every mount: {@code uppers/<uid>}. */
  public Path upperHome(String uid) {
    return uppers().resolve(uid);
  }

  /** A sized Disk upper's file system image: {@code uppers/<uid>/disk.img}. */
  public Path upperImage(String uid) {
    return upperHome(uid).resolve(VOLUME_IMAGE);
  }

  /** Where a sized Disk upper's file system is mounted: {@code uppers/<uid>/fs}. */
  public Path upperFs(String uid) {
    return upperHome(uid).resolve(VOLUME_FS);
  }

  /** The record of which lower an upper was last mounted on. */
  public Path lowerRecord(String uid) {
    return upperHome(uid).resolve(LOWER_RECORD);
  }

  /** The name and reclaim policy the agent mounted an OverlayMount's upper with. */
  public Path mountRecord(String uid) {
    return upperHome(uid).resolve(MOUNT_RECORD);
  }

  /** The uppers of pod volumes (CSI): {@code volumes/}. */
  public Path volumes() {
    return stateDir.resolve(VOLUMES);
  }

  /** Holds one pod volume's upper and work directories: {@code volumes/<volume id>}. */
  public Path volumeHome(String volumeId) {
    return volumes().resolve(volumeId);
  }

  /** The LayerSet a volume mounts: {@code volumes/<volume id>/layerset}. */
  public Path volumeRecord(String volumeId) {
    return volumeHome(volumeId).resolve(VOLUME_RECORD);
  }

  /** A Disk volume's file system image: {@code volumes/<volume id>/disk.img}. */
  public Path volumeImage(String volumeId) {
    return volumeHome(volumeId).resolve(VOLUME_IMAGE);
  }

  /** Where a volume's upper file system is mounted: {@code volumes/<volume id>/fs}. */
  public Path volumeFs(String volumeId) {
    return volumeHome(volumeId).resolve(VOLUME_FS);
  }

  public Path emptyLower() {
    return stateDir.resolve(EMPTY);
  }

  /** Where a Memory upper's tmpfs is mounted: {@code <mount base>/.uppers/<uid>}. */
  public Path memoryUpper(String uid) {
    return mountBase.resolve(MEMORY_UPPERS).resolve(uid);
  }

  public Path defaultTarget(String name) {
    return mountBase.resolve(name);
  }
}
