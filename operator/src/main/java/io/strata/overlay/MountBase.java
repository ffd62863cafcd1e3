package io.strata.overlay;

import java.nio.file.Path;
import java.util.Optional;

/** The mount base must be its own shared mount so that mounts beneath it reach the host. */
public final class MountBase {
  private MountBase() {}

  /** A problem with {@code base} in {@code table}, with how to fix it; empty when it is fine. */
  public static Optional<String> problem(MountTable table, Path base) {
    Optional<MountInfo> own = table.at(base);
    if (own.isPresent() && own.get().isShared()) {
      return Optional.empty();
    }
    return Optional.of(
        base
            + (own.isPresent() ? " is a mount but not shared; " : " is not a mount point; ")
            + String.format(
                "prepare it with: mkdir -p %1$s && mount --bind %1$s %1$s"
                    + " && mount --make-private %1$s && mount --make-shared %1$s",
                base));
  }
}
