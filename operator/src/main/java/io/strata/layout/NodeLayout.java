package io.strata.layout;

import java.nio.file.Path;

/**
 * Where everything Strata keeps on a node lives. The whole on-disk contract is this class:
 *
 * <pre>
 * &lt;state dir&gt;/                  default /var/lib/strata
 *   .lock                        flock: one agent per node
 *   ingest/                      partial downloads
 *   blobs/sha256/&lt;hex&gt;           verified blobs, only while needed
 *   staging/                     private (0700) trees being built; emptied at start
 *   layers/&lt;chain hex&gt;/root      committed roots, never modified again
 *   layers/&lt;chain hex&gt;/layer.json  what built it: diffIDs, blob digests, files, bytes
 *   diffids/sha256/&lt;blob hex&gt;   the diffID a verified blob unpacked to (names chains early)
 *   uppers/&lt;uid&gt;/upper, work    Disk upper of a mount, on the state dir's filesystem
 *   uppers/&lt;uid&gt;/lower          the lower root the upper was last mounted on
 *   empty/                       the empty second lowerdir of read-only mounts
 *   trash/                       removals in progress; emptied at start
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
  public static final String EMPTY = "empty";
  public static final String TRASH = "trash";
  public static final String STAGING = "staging";
  public static final String LAYERS = "layers";
  public static final String MEMORY_UPPERS = ".uppers";
  public static final String ROOT = "root";
  public static final String LAYER_JSON = "layer.json";
  public static final String DIFF_IDS = "diffids";

  public NodeLayout {
    stateDir = stateDir.toAbsolutePath().normalize();
    mountBase = mountBase.toAbsolutePath().normalize();
  }

  public Path lockFile() {
    return stateDir.resolve(LOCK_FILE);
  }

  /** Holds the upper of every mount: {@code uppers/<uid>}. */
  public Path upperHome(String uid) {
    return stateDir.resolve(UPPERS).resolve(uid);
  }

  /** The record of which lower an upper was last mounted on. */
  public Path lowerRecord(String uid) {
    return upperHome(uid).resolve(LOWER_RECORD);
  }

  public Path emptyLower() {
    return stateDir.resolve(EMPTY);
  }

  public Path trash() {
    return stateDir.resolve(TRASH);
  }

  public Path staging() {
    return stateDir.resolve(STAGING);
  }

  public Path layers() {
    return stateDir.resolve(LAYERS);
  }

  /** The committed layer of a chain: {@code layers/<chain hex>}. */
  public Path layer(String chainHex) {
    return layers().resolve(chainHex);
  }

  public Path layerRoot(String chainHex) {
    return layer(chainHex).resolve(ROOT);
  }

  public Path diffIdRecord(String blobHex) {
    return stateDir.resolve(DIFF_IDS).resolve("sha256").resolve(blobHex);
  }

  /** Where a Memory upper's tmpfs is mounted: {@code <mount base>/.uppers/<uid>}. */
  public Path memoryUpper(String uid) {
    return mountBase.resolve(MEMORY_UPPERS).resolve(uid);
  }

  public Path defaultTarget(String name) {
    return mountBase.resolve(name);
  }
}
