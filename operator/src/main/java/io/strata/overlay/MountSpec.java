package io.strata.overlay;

import io.strata.sys.MountOption;
import java.nio.file.Path;
import java.util.Set;

/**
 * One mount(2) call as data: what {@link OverlayPlanner} decides and the one executor performs.
 *
 * @param source shown in mountinfo; {@code strata:<uid>} is how start-up recognises its own mounts
 * @param data the filesystem's option string, built only from paths Strata made
 */
public record MountSpec(
    String source, Path target, String fsType, Set<MountOption> flags, String data) {
  public MountSpec {
    flags = Set.copyOf(flags);
  }
}
