package io.strata.overlay;

import io.strata.overlay.MountRefusedException.Reason;
import java.nio.file.Path;

/**
 * Where a mount may go: strictly beneath the agent's own mount base, on a {@code /} boundary. This
 * is the syntax-level check; opening the target without following symlinks is the executor's.
 */
public final class MountTargets {
  /** Beneath the mount base, where Memory uppers' tmpfs live: never a target. */
  public static final String UPPERS_DIR = io.strata.layout.NodeLayout.MEMORY_UPPERS;

  private MountTargets() {}

  /** Returns {@code target} when it lies strictly beneath {@code mountBase}; refuses otherwise. */
  public static Path requireUnderBase(Path mountBase, String target) throws MountRefusedException {
    Path base = mountBase.toAbsolutePath().normalize();
    Path path = Path.of(target);
    if (!path.isAbsolute()) {
      throw new MountRefusedException(Reason.UnsafeTarget, "target " + target + " is not absolute");
    }
    if (!path.normalize().equals(path) || target.contains("//") || target.endsWith("/")) {
      throw new MountRefusedException(
          Reason.UnsafeTarget, "target " + target + " is not a normalized path");
    }
    // Path.startsWith compares whole names, so /mnt/strataX is not under /mnt/strata.
    if (!path.startsWith(base) || path.equals(base)) {
      throw new MountRefusedException(
          Reason.UnsafeTarget,
          "target " + target + " is not strictly beneath the mount base " + base);
    }
    if (path.getName(base.getNameCount()).toString().equals(UPPERS_DIR)) {
      throw new MountRefusedException(
          Reason.UnsafeTarget, "target " + target + " is inside Strata's own " + UPPERS_DIR);
    }
    return path;
  }
}
