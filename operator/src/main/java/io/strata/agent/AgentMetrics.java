package io.strata.agent;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.strata.crd.NodeLayerState;
import io.strata.kube.MetricsRegistry;
import io.strata.layerstore.LayerStore;
import io.strata.sys.FsStat;
import io.strata.sys.SyscallException;
import io.strata.sys.Syscalls;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** The agent's Prometheus metrics, served at {@code /metrics} on {@code --http-port}. */
final class AgentMetrics {
  private final PrometheusMeterRegistry registry = MetricsRegistry.create();
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
  private final AtomicLong volumes = new AtomicLong();
  private final Map<NodeLayerState.LayerSetPhase, AtomicLong> phases =
      counters(NodeLayerState.LayerSetPhase.class);
  private final Map<NodeLayerState.MountPhase, AtomicLong> mountPhases =
      counters(NodeLayerState.MountPhase.class);

  private static <P extends Enum<P>> Map<P, AtomicLong> counters(Class<P> type) {
    Map<P, AtomicLong> counts = new EnumMap<>(type);
    for (P phase : type.getEnumConstants()) {
      counts.put(phase, new AtomicLong());
    }
    return counts;
  }

  /** Where the Java Operator SDK adds its reconciler metrics. */
  PrometheusMeterRegistry registry() {
    return registry;
  }

  AgentMetrics() {
    Gauge.builder("strata_cache_bytes", cacheBytes, AtomicLong::get)
        .description("Bytes in the roots of the LayerSets this node serves")
        .register(registry);
    Gauge.builder("strata_cache_files", cacheFiles, AtomicLong::get)
        .description("Files in the roots of the LayerSets this node serves")
        .register(registry);
    Gauge.builder("strata_mounts", mounts, AtomicLong::get)
        .description("OverlayMounts mounted on this node")
        .register(registry);
    Gauge.builder("strata_volumes", volumes, AtomicLong::get)
        .description("Pod volumes mounted on this node")
        .register(registry);
    phaseGauges(phases, "strata_layersets", "LayerSets this node serves, by phase");
    phaseGauges(mountPhases, "strata_overlaymounts", "OverlayMounts this node serves, by phase");
  }

  /** One gauge per phase of {@code counts}' enum, tagged {@code phase}. */
  private <P extends Enum<P>> void phaseGauges(
      Map<P, AtomicLong> counts, String name, String description) {
    for (P phase : counts.keySet()) {
      Gauge.builder(name, counts.get(phase), AtomicLong::get)
          .description(description)
          .tag("phase", phase.name())
          .register(registry);
    }
  }

  /**
   * The cache's budget and its file system: what alerts compare {@code strata_cache_bytes} and the
   * free space with.
   */
  void cache(long budgetBytes, Path stateDir, Syscalls sys) {
    Gauge.builder("strata_cache_budget_bytes", () -> budgetBytes)
        .description("The cache's budget (--cache-max-bytes); 0 for none")
        .register(registry);
    Gauge.builder("strata_cache_filesystem_size_bytes", () -> statfs(sys, stateDir, true))
        .description("Size of the file system that holds the cache")
        .register(registry);
    Gauge.builder("strata_cache_filesystem_free_bytes", () -> statfs(sys, stateDir, false))
        .description("Space left for the cache on its file system (for unprivileged users too)")
        .register(registry);
  }

  private static double statfs(Syscalls sys, Path stateDir, boolean size) {
    try {
      FsStat fs = sys.statfs(stateDir);
      return size ? fs.totalBytes() : fs.availableBytes();
    } catch (SyscallException e) {
      return Double.NaN; // not measurable now: no sample rather than a wrong one
    }
  }

  /** A LayerSet newly failed on this node, for {@code reason}. */
  void layerSetFailed(String reason) {
    Counter.builder("strata_layerset_failures")
        .description("LayerSets that newly failed on this node, by reason")
        .tag("reason", String.valueOf(reason))
        .register(registry)
        .increment();
  }

  /** An OverlayMount newly failed on this node, for {@code reason}. */
  void overlayMountFailed(String reason) {
    Counter.builder("strata_overlaymount_failures")
        .description("OverlayMounts that newly failed on this node, by reason")
        .tag("reason", String.valueOf(reason))
        .register(registry)
        .increment();
  }

  /** The CSI plugin refused a pod volume's publish with {@code code}. */
  void volumeRefused(String code) {
    Counter.builder("strata_volume_publish_failures")
        .description("Pod volume publishes refused, by CSI code")
        .tag("code", code)
        .register(registry)
        .increment();
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
    mountPhases.values().forEach(c -> c.set(0));
    for (NodeLayerState.OverlayMountEntry e : status.overlayMounts) {
      mountPhases.get(e.phase).incrementAndGet();
    }
    mounts.set(mountPhases.get(NodeLayerState.MountPhase.Mounted).get());
    volumes.set(status.layerSets.stream().mapToLong(e -> e.volumes == null ? 0 : e.volumes).sum());
  }

  String scrape() {
    return registry.scrape();
  }
}
