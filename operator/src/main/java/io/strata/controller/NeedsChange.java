package io.strata.controller;

import io.strata.crd.AgentReason;
import io.strata.fetch.FetchException;
import io.strata.overlay.MountRefusedException;
import io.strata.tarapply.LayerException;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Which failures a node reports that only a change to the object gets past: what makes it {@code
 * Stalled} (kstatus Failed) rather than still reconciling. A layer refused for its content, a
 * digest that does not match what the server serves, an image Strata will not use, a target or
 * option it will not mount: retrying the same spec fails the same way. A server down, a secret not
 * yet there, a full disk or a busy mount pass by themselves.
 */
final class NeedsChange {
  private NeedsChange() {}

  /** For a LayerSet: every reason about a layer's content, and the fetch reasons of a bad spec. */
  static final Predicate<String> LAYER_SET =
      named(
          union(
              EnumSet.complementOf(
                  EnumSet.of(LayerException.Reason.NoSpace, LayerException.Reason.IOError)),
              EnumSet.of(
                  FetchException.Reason.InvalidImage,
                  FetchException.Reason.ForbiddenUrl,
                  FetchException.Reason.UnsupportedImage,
                  FetchException.Reason.UnsupportedMediaType,
                  FetchException.Reason.DigestMismatch,
                  FetchException.Reason.SizeLimit),
              EnumSet.of(AgentReason.InvalidSpec)));

  /** For an OverlayMount: a target or options no node will mount as they are. */
  static final Predicate<String> OVERLAY_MOUNT =
      named(
          union(
              EnumSet.of(
                  MountRefusedException.Reason.UnsafeTarget,
                  MountRefusedException.Reason.UnsafeMountOption,
                  MountRefusedException.Reason.MountDataTooLong),
              EnumSet.of(AgentReason.InvalidSpec)));

  /** Whether resolving an image's tag failed in a way only a change to {@code spec.image} fixes. */
  static boolean imageNeedsChange(FetchException.Reason reason) {
    return reason == FetchException.Reason.InvalidImage
        || reason == FetchException.Reason.UnsupportedImage
        || reason == FetchException.Reason.ForbiddenUrl;
  }

  @SafeVarargs
  private static Set<String> union(Set<? extends Enum<?>>... sets) {
    Set<String> names = new HashSet<>();
    for (Set<? extends Enum<?>> set : sets) {
      set.forEach(reason -> names.add(reason.name()));
    }
    return Set.copyOf(names);
  }

  private static Predicate<String> named(Set<String> reasons) {
    return reasons::contains;
  }
}
