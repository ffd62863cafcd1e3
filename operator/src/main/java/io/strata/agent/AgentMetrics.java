package io.strata.agent;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.strata.crd.NodeLayerState;
import io.strata.layerstore.LayerStore;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** The agent's Prometheus metrics, served at {@code /metrics} on {@code --http-port}. */
final class AgentMetrics {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  final Timer fetch =
      Timer.builder("strata_fetch_seconds")
          .description("Time to fetch one layer blob")
          .register(registry);
  final Counter fetchedBytes =
      Counter.builder("strata_fetched_bytes").description("Layer bytes fetched").register(registry);
  final Timer materialize =
      Timer.builder("strata_materialize_seconds")
          .description("Time to materialize one chain")
          .register(registry);
  final Counter failedPasses =
      Counter.builder("strata_reconcile_errors")
          .description("Passes that failed and were retried")
          .register(registry);
  private final AtomicLong cacheBytes = new AtomicLong();
  private final AtomicLong cacheFiles = new AtomicLong();
  private final AtomicLong mounts = new AtomicLong();
  private final Map<NodeLayerState.LayerSetPhase, AtomicLong> phases =
      new EnumMap<>(NodeLayerState.LayerSetPhase.class);

  /** Where the Java Operator SDK adds its reconciler metrics. */
  PrometheusMeterRegistry registry() {
    return registry;
  }

  AgentMetrics() {
    Gauge.builder("strata_cache_bytes", cacheBytes, AtomicLong::get)
        .description("Bytes in the roots of the LayerSets this node serves")
        .register(registry);
    Gauge.builder("strata_cache_files", cacheFiles, AtomicLong::get).register(registry);
    Gauge.builder("strata_mounts", mounts, AtomicLong::get)
        .description("OverlayMounts mounted on this node")
        .register(registry);
    for (NodeLayerState.LayerSetPhase phase : NodeLayerState.LayerSetPhase.values()) {
      AtomicLong count = new AtomicLong();
      phases.put(phase, count);
      Gauge.builder("strata_layersets", count, AtomicLong::get)
          .tag("phase", phase.name())
          .register(registry);
    }
  }

  /** Layers extracted: a chain that starts from a committed root counts only what it adds. */
  void countLayersApplied(LayerStore store) {
    FunctionCounter.builder("strata_layers_applied", store, LayerStore::layersApplied)
        .description("Layers extracted into new roots")
        .register(registry);
  }

  /** Refreshes the gauges from the status a pass just computed. */
  void observe(NodeLayerState.Status status) {
    phases.values().forEach(c -> c.set(0));
    long bytes = 0;
    long files = 0;
    for (NodeLayerState.LayerSetEntry e : status.layerSets) {
      phases.get(e.phase).incrementAndGet();
      if (e.phase == NodeLayerState.LayerSetPhase.Ready) {
        bytes += e.bytes == null ? 0 : e.bytes;
        files += e.files == null ? 0 : e.files;
      }
    }
    cacheBytes.set(bytes);
    cacheFiles.set(files);
    mounts.set(
        status.overlayMounts.stream()
            .filter(e -> e.phase == NodeLayerState.MountPhase.Mounted)
            .count());
  }

  String scrape() {
    return registry.scrape();
  }
}
