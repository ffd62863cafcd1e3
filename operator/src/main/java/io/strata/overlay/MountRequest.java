package io.strata.overlay;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * One overlay a node should have.
 *
 * @param uid identifies the mount and its upper across restarts; becomes part of paths and of the
 *     mount source {@code strata:<uid>}, so it is a plain lowercase name
 * @param name gives the default target {@code <mount base>/<name>}
 * @param target an explicit target, checked to lie strictly beneath the mount base; null for the
 *     default
 * @param memoryBytes the size of a Memory upper's tmpfs; 0 for a Disk upper
 * @param diskBytes the size of a Disk upper's own file system (an ext4 in a sparse file, held by
 *     the kernel); 0 for a Disk upper on the state dir's file system, or a Memory upper
 */
public record MountRequest(
    String uid,
    String name,
    String target,
    Path lowerRoot,
    boolean readOnly,
    long memoryBytes,
    long diskBytes,
    boolean volatileUpper,
    String seLinuxContext) {

  private static final Pattern UID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

  public MountRequest {
    if (!isValidUid(uid)) {
      throw new IllegalArgumentException("mount uid '" + uid + "' is not [a-z0-9-], 1-63 long");
    }
    if (name == null || !UID.matcher(name).matches()) {
      throw new IllegalArgumentException("mount name '" + name + "' is not a DNS label");
    }
    if (memoryBytes < 0 || diskBytes < 0) {
      throw new IllegalArgumentException("an upper's size is negative");
    }
    if (memoryBytes > 0 && diskBytes > 0) {
      throw new IllegalArgumentException("an upper is in memory or on disk, not both");
    }
  }

  /** A writable mount with a Disk upper at the default target. */
  public static MountRequest disk(String uid, String name, Path lowerRoot) {
    return new MountRequest(uid, name, null, lowerRoot, false, 0, 0, false, null);
  }

  public MountRequest withTarget(String explicitTarget) {
    return new MountRequest(
        uid,
        name,
        explicitTarget,
        lowerRoot,
        readOnly,
        memoryBytes,
        diskBytes,
        volatileUpper,
        seLinuxContext);
  }

  public MountRequest asReadOnly() {
    return new MountRequest(uid, name, target, lowerRoot, true, 0, 0, false, seLinuxContext);
  }

  public MountRequest inMemory(long bytes) {
    return new MountRequest(
        uid, name, target, lowerRoot, readOnly, bytes, 0, volatileUpper, seLinuxContext);
  }

  /** A Disk upper on a file system of its own of {@code bytes}, which the kernel holds it to. */
  public MountRequest onDiskOf(long bytes) {
    return new MountRequest(
        uid, name, target, lowerRoot, readOnly, 0, bytes, volatileUpper, seLinuxContext);
  }

  /** Whether {@code uid} may name a mount: it becomes part of paths and of mount sources. */
  public static boolean isValidUid(String uid) {
    return uid != null && UID.matcher(uid).matches();
  }

  public boolean isMemory() {
    return memoryBytes > 0;
  }

  /** A Disk upper on a file system of its own size. */
  public boolean isSizedDisk() {
    return diskBytes > 0;
  }
}
