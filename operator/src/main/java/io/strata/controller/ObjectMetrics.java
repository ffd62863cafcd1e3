package io.strata.controller;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.strata.crd.NodeSummaryStatus;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * How many nodes each LayerSet (or OverlayMount) wants, and how many are ready and failed, as
 * gauges labelled with its name: {@code <metric>{<kind>="name", state="desired|ready|failed"}}, for
 * alerts that say which object is degraded or not Ready. Set on each pass of the leader, removed
 * when the object goes; a standby controller exports none.
 */
final class ObjectMetrics {
  private static final List<String> STATES = List.of("desired", "ready", "failed");

  private final MeterRegistry registry;
  private final String metric;
  private final String label;
  private final Map<String, AtomicLongArray> counts = new ConcurrentHashMap<>();
  private final Map<String, List<Meter>> meters = new ConcurrentHashMap<>();

  /**
   * @param metric e.g. {@code strata_layerset_nodes}
   * @param label the object's label, e.g. {@code layerset}
   */
  ObjectMetrics(MeterRegistry registry, String metric, String label) {
    this.registry = registry;
    this.metric = metric;
    this.label = label;
  }

  /** What the pass just folded into object {@code name}'s {@code status}. */
  void set(String name, NodeSummaryStatus status) {
    set(
        name,
        status.desiredNodes,
        status.readyNodes,
        status.failedNodes.size() + Objects.requireNonNullElse(status.moreFailedNodes, 0));
  }

  private void set(String name, long desired, long ready, long failed) {
    AtomicLongArray values =
        counts.computeIfAbsent(
            name,
            n -> {
              AtomicLongArray created = new AtomicLongArray(STATES.size());
              meters.put(
                  n,
                  STATES.stream()
                      .<Meter>map(
                          state ->
                              Gauge.builder(metric, created, a -> a.get(STATES.indexOf(state)))
                                  .description(
                                      "Nodes the "
                                          + label
                                          + " selects (desired), holds ready, and failed on")
                                  .tag(label, n)
                                  .tag("state", state)
                                  .register(registry))
                      .toList());
              return created;
            });
    values.set(0, desired);
    values.set(1, ready);
    values.set(2, failed);
  }

  /** Object {@code name} is gone: its series go with it. */
  void remove(String name) {
    counts.remove(name);
    List<Meter> gone = meters.remove(name);
    if (gone != null) {
      gone.forEach(registry::remove);
    }
  }
}
