package io.strata.overlay;

import java.util.List;

/**
 * Everything one mount request takes on the node, decided before any of it is done: the steps in
 * order, and the overlay that stands once they are (for an adopted mount, no step changes the
 * node). {@link Overlays} carries out the steps; the record of the lower the upper was on before is
 * only known then, and completes {@code outcome}.
 */
public record MountPlan(List<MountStep> steps, MountedOverlay outcome) {
  public MountPlan {
    steps = List.copyOf(steps);
  }
}
