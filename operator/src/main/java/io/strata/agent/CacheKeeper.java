package io.strata.agent;

import io.strata.crd.NodeLayerState;
import io.strata.layerstore.CacheCollector;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the node's cache within budget and measures what it holds ({@code status.cache}), from the
 * status loop. Collection runs at most once a minute and only while every served LayerSet has
 * settled (Ready or Failed): new work starts only on the status loop, so nothing is being built on
 * a root the collector could remove. Blobs no LayerSet still needs go on every settled pass: they
 * are big, and listing them is cheap. The cache is measured again after each collection and
 * whenever the roots the node's LayerSets use change.
 */
final class CacheKeeper {
  private static final Logger log = LoggerFactory.getLogger(CacheKeeper.class);
  static final Duration COLLECTION_INTERVAL = Duration.ofMinutes(1);

  private final CacheCollector collector;
  private final CacheCollector.Budget budget;
  private final LayerSetWork work;
  private final LongSupplier ticker;
  private boolean collected;
  private long lastCollection;
  private Set<String> measuredFor = Set.of();
  private NodeLayerState.Cache cache;

  /**
   * @param ticker nanoseconds, as {@link System#nanoTime()}
   */
  CacheKeeper(
      CacheCollector collector,
      CacheCollector.Budget budget,
      LayerSetWork work,
      LongSupplier ticker) {
    this.collector = collector;
    this.budget = budget;
    this.work = work;
    this.ticker = ticker;
  }

  /**
   * After a pass has found where each served LayerSet stands: collects what the node no longer
   * needs, if it may now, and returns what the cache holds (null until first measured).
   */
  NodeLayerState.Cache afterPass(Collection<LayerSetProgress> served) {
    if (!served.stream().allMatch(LayerSetProgress::isSettled)) {
      return cache;
    }
    try {
      work.removeUnneededBlobs();
    } catch (IOException e) {
      log.warn("removing unneeded blobs failed (retried later): {}", e.getMessage());
    }
    Set<String> needed =
        served.stream()
            .filter(p -> p.stage() instanceof LayerSetProgress.Ready)
            .map(p -> ((LayerSetProgress.Ready) p.stage()).made().chainId().hex())
            .collect(Collectors.toSet());
    long now = ticker.getAsLong();
    boolean collect = !collected || now - lastCollection >= COLLECTION_INTERVAL.toNanos();
    if (collect) {
      collected = true;
      lastCollection = now;
      try {
        collector.collect(needed, budget);
      } catch (IOException e) {
        log.warn("cache collection failed (retried later): {}", e.getMessage());
      }
    }
    // Reading every root's record is not for every pass: only when roots may have come or gone.
    if (collect || !needed.equals(measuredFor)) {
      measure();
      measuredFor = needed;
    }
    return cache;
  }

  /** What the cache holds, from the committed roots' records. */
  private void measure() {
    try {
      CacheCollector.Usage usage = collector.usage();
      NodeLayerState.Cache measured = new NodeLayerState.Cache();
      measured.bytes = usage.bytes();
      measured.files = usage.files();
      measured.capacityBytes = usage.capacityBytes();
      cache = measured;
    } catch (IOException e) {
      log.warn("measuring the cache failed (retried later): {}", e.getMessage());
    }
  }
}
