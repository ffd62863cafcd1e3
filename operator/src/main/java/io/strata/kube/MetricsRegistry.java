package io.strata.kube;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The Prometheus registry of either process. Every metric gets help text, which Prometheus's lint
 * ({@code promtool check metrics}) asks of each: the Java Operator SDK registers its reconciler
 * metrics without any, so they get one naming where they come from (docs/metrics.md describes
 * them).
 */
public final class MetricsRegistry {
  private MetricsRegistry() {}

  public static PrometheusMeterRegistry create() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry
        .config()
        .meterFilter(
            new MeterFilter() {
              @Override
              public Meter.Id map(Meter.Id id) {
                if (id.getDescription() != null && !id.getDescription().isBlank()) {
                  return id;
                }
                return new Meter.Id(
                    id.getName(),
                    Tags.of(id.getTagsAsIterable()),
                    id.getBaseUnit(),
                    helpFor(id.getName()),
                    id.getType());
              }
            });
    return registry;
  }

  private static String helpFor(String name) {
    return name.startsWith("operator.sdk")
        ? "Java Operator SDK reconciler metric " + name + " (docs/metrics.md)"
        : "Strata metric " + name + " (docs/metrics.md)";
  }
}
