package io.strata.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import io.strata.fetch.BlobFetcher;
import io.strata.layerstore.Digest;
import io.strata.layerstore.LayerStore;
import io.strata.layerstore.LayerStore.LayerSource;
import io.strata.layerstore.LayerStore.Materialized;
import io.strata.tarapply.LayerException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches and materializes every LayerSet this node serves, a few at a time, off the status loop.
 * It remembers only how far each got; on a restart that is rebuilt from disk in moments, since
 * fetched blobs and committed roots are found again instead of being made twice.
 */
final class LayerSetWork implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LayerSetWork.class);

  /** Where one LayerSet stands on this node, for the spec it was asked with. */
  record State(String spec, LayerSetEntry entry) {}

  private final AgentMetrics metrics;
  private final BlobFetcher fetcher;
  private final LayerStore store;
  private final Runnable onChange;
  private final ExecutorService pool;
  private final Map<String, State> states = new ConcurrentHashMap<>();

  LayerSetWork(
      BlobFetcher fetcher, LayerStore store, int workers, AgentMetrics metrics, Runnable onChange) {
    this.metrics = metrics;
    this.fetcher = fetcher;
    this.store = store;
    this.onChange = onChange;
    this.pool =
        Executors.newFixedThreadPool(
            workers, r -> Thread.ofPlatform().name("layerset-work").daemon().unstarted(r));
  }

  /** Where {@code layerSet} stands; starts the work when its spec is new to this node. */
  LayerSetEntry ensure(LayerSet layerSet) {
    String name = layerSet.getMetadata().getName();
    String spec = specKey(layerSet);
    State state = states.get(name);
    if (state == null || !state.spec().equals(spec)) {
      state = new State(spec, entry(LayerSetPhase.Pending, null, null));
      states.put(name, state);
      pool.execute(() -> run(name, spec, layerSet.getSpec()));
    }
    return state.entry();
  }

  /** Drops what is known about LayerSets this node no longer serves. */
  void retainOnly(Set<String> names) {
    states.keySet().retainAll(names);
  }

  private void run(String name, String spec, LayerSet.Spec wanted) {
    try {
      if (wanted.image != null) {
        update(
            name,
            spec,
            entry(
                LayerSetPhase.Failed,
                "Unsupported",
                "spec.image is not supported by this agent version; list the layers instead"));
        return;
      }
      List<LayerSource> sources = new ArrayList<>();
      long fetched = 0;
      for (LayerSet.Layer layer : wanted.layers) {
        long before = fetched;
        long started = System.nanoTime();
        long[] downloaded = {0};
        Path file =
            fetcher.fetch(
                layer.url,
                Digest.parse(layer.digest),
                (done, total) -> {
                  metrics.fetchedBytes.increment(
                      done - downloaded[0]); // only real downloads report
                  downloaded[0] = done;
                  LayerSetEntry progress = entry(LayerSetPhase.Fetching, null, null);
                  progress.fetchedBytes = before + done;
                  progress.totalBytes = total < 0 ? null : before + total;
                  update(name, spec, progress);
                });
        fetched = before + Files.size(file);
        metrics.fetch.record(
            System.nanoTime() - started, java.util.concurrent.TimeUnit.NANOSECONDS);
        if (!layer.url.startsWith("file:")) {
          metrics.fetchedBytes.increment(Files.size(file));
        }
        sources.add(new LayerSource(file, Digest.parse(layer.digest), layer.mediaType));
      }
      update(name, spec, entry(LayerSetPhase.Materializing, null, null));
      long started = System.nanoTime();
      Materialized made = store.materialize(sources);
      metrics.materialize.record(
          System.nanoTime() - started, java.util.concurrent.TimeUnit.NANOSECONDS);
      LayerSetEntry ready = entry(LayerSetPhase.Ready, null, null);
      ready.chainId = made.chainId().toString();
      ready.root = made.root().toString();
      ready.files = made.files();
      ready.bytes = made.bytes();
      update(name, spec, ready);
      log.info("LayerSet {} is ready: {} at {}", name, made.chainId(), made.root());
    } catch (LayerException e) {
      log.warn("LayerSet {} failed: {}: {}", name, e.reason(), e.getMessage());
      update(name, spec, entry(LayerSetPhase.Failed, e.reason().name(), e.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.warn("LayerSet {} failed", name, e);
      update(name, spec, entry(LayerSetPhase.Failed, "IOError", String.valueOf(e.getMessage())));
    }
  }

  /**
   * Records progress only while the spec it was for is still the one wanted; download progress
   * wakes the status loop at most once a second, so a big fetch is not a storm of writes.
   */
  private void update(String name, String spec, LayerSetEntry entry) {
    states.computeIfPresent(name, (n, s) -> s.spec().equals(spec) ? new State(spec, entry) : s);
    long now = System.nanoTime();
    if (entry.phase != LayerSetPhase.Fetching || now - lastNotice > 1_000_000_000L) {
      lastNotice = now;
      onChange.run();
    }
  }

  private volatile long lastNotice;

  private static LayerSetEntry entry(LayerSetPhase phase, String reason, String message) {
    LayerSetEntry entry = new LayerSetEntry();
    entry.phase = phase;
    entry.reason = reason;
    entry.message = message == null ? null : truncate(message);
    return entry;
  }

  private static String truncate(String message) {
    return message.length() <= 1000 ? message : message.substring(0, 1000) + "...";
  }

  private static String specKey(LayerSet layerSet) {
    try {
      LayerSet.Spec spec = layerSet.getSpec();
      return Serialization.jsonMapper().writeValueAsString(new Object[] {spec.layers, spec.image});
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
