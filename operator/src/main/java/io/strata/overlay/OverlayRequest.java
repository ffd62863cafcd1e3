package io.strata.overlay;

import java.nio.file.Path;

/**
 * What one overlay needs, in paths the agent made: the LayerSet's root as the lower layer and, for
 * a writable mount, an upper and a work directory on one filesystem.
 *
 * @param emptyLower for read-only mounts: an empty directory Strata made, the second lowerdir
 *     (overlayfs refuses a single lowerdir without an upper)
 */
public record OverlayRequest(
    String uid,
    Path target,
    Path lowerRoot,
    Path upperDir,
    Path workDir,
    Path emptyLower,
    boolean readOnly,
    boolean volatileUpper,
    String seLinuxContext) {

  public static OverlayRequest writable(
      String uid, Path target, Path lowerRoot, Path upperDir, Path workDir) {
    return new OverlayRequest(uid, target, lowerRoot, upperDir, workDir, null, false, false, null);
  }

  public static OverlayRequest readOnly(String uid, Path target, Path lowerRoot, Path emptyLower) {
    return new OverlayRequest(uid, target, lowerRoot, null, null, emptyLower, true, false, null);
  }

  public OverlayRequest withVolatile() {
    return new OverlayRequest(
        uid, target, lowerRoot, upperDir, workDir, emptyLower, readOnly, true, seLinuxContext);
  }

  public OverlayRequest withSeLinuxContext(String context) {
    return new OverlayRequest(
        uid, target, lowerRoot, upperDir, workDir, emptyLower, readOnly, volatileUpper, context);
  }
}
