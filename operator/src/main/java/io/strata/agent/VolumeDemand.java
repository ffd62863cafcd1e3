package io.strata.agent;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * LayerSets pods asked for as volumes on a node their selector does not select: the node fetches
 * them on demand. kubelet asks again with back-off (at most about two minutes apart) while a pod
 * waits, so a request lasts {@link #TTL} since it was last made; a volume once mounted holds its
 * LayerSet by itself.
 */
final class VolumeDemand {
  static final Duration TTL = Duration.ofMinutes(10);

  private final Clock clock;
  private final Map<String, Instant> asked = new ConcurrentHashMap<>();

  VolumeDemand(Clock clock) {
    this.clock = clock;
  }

  /** A pod asked for {@code layerSet} now; true when it was not asked for already. */
  boolean ask(String layerSet) {
    return asked.put(layerSet, clock.instant()) == null;
  }

  /** What was asked for within the TTL; older requests are forgotten. */
  Set<String> current() {
    Instant oldest = clock.instant().minus(TTL);
    asked.values().removeIf(at -> at.isBefore(oldest));
    return asked.keySet().stream().collect(Collectors.toUnmodifiableSet());
  }
}
