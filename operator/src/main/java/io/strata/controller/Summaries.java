package io.strata.controller;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.controller.StatusAggregator.NodeReport;
import io.strata.controller.StatusAggregator.Summary;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeSummaryStatus;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Glue between NodeLayerStates, the aggregator and the status objects it fills. */
final class Summaries {
  private Summaries() {}

  /** What every node reported about one object, found in its NodeLayerState by {@code entry}. */
  static Map<String, NodeReport> reports(
      List<NodeLayerState> states, Function<NodeLayerState.Status, NodeReport> entry) {
    Map<String, NodeReport> reports = new HashMap<>();
    for (NodeLayerState state : states) {
      if (state.getStatus() != null) {
        NodeReport report = entry.apply(state.getStatus());
        if (report != null) {
          reports.put(state.getMetadata().getName(), report);
        }
      }
    }
    return reports;
  }

  /** What a node says about LayerSet {@code name}, or null when it does not list it. */
  static Function<NodeLayerState.Status, NodeReport> layerSetReport(String name) {
    return status ->
        status.layerSets.stream()
            .filter(e -> name.equals(e.name))
            .findFirst()
            .map(
                e ->
                    new NodeReport(
                        phase(e.phase),
                        e.reason,
                        e.message,
                        e.observedGeneration,
                        e.chainId,
                        e.volumes == null ? 0 : e.volumes,
                        e.fetchedBytes,
                        e.totalBytes))
            .orElse(null);
  }

  /** What a node says about OverlayMount {@code name}, or null when it does not list it. */
  static Function<NodeLayerState.Status, NodeReport> overlayMountReport(String name) {
    return status ->
        status.overlayMounts.stream()
            .filter(e -> name.equals(e.name))
            .findFirst()
            .map(
                e ->
                    new NodeReport(phase(e.phase), e.reason, e.message, e.observedGeneration, null))
            .orElse(null);
  }

  private static String phase(Enum<?> phase) {
    return phase == null ? null : phase.name();
  }

  static void fill(NodeSummaryStatus status, Summary summary, long generation) {
    status.observedGeneration = generation;
    status.desiredNodes = summary.desired();
    status.readyNodes = summary.ready();
    status.failedNodes = summary.failed();
    status.moreFailedNodes = summary.moreFailed();
    status.conditions = summary.conditions();
  }

  /** Whether writing {@code next} would change nothing: no write, however many events came. */
  static boolean same(Object current, Object next) {
    if (current == null) {
      return false;
    }
    JsonNode a = Serialization.jsonMapper().valueToTree(current);
    JsonNode b = Serialization.jsonMapper().valueToTree(next);
    return a.equals(b);
  }
}
