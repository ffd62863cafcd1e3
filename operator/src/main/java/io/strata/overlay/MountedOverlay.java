package io.strata.overlay;

import java.nio.file.Path;

/**
 * An overlay as it stands on the node.
 *
 * @param adopted it was already mounted (by an earlier run) and was left as it is
 * @param previousLower the lower the upper was last mounted on, when that differs from now
 */
public record MountedOverlay(
    String uid,
    Path target,
    MountSpec spec,
    Path upperDir,
    Path workDir,
    boolean adopted,
    Path previousLower) {}
