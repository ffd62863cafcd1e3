package io.strata.controller;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.strata.kube.EventRecorder;
import java.util.List;

/**
 * Records an Event when a LayerSet's or OverlayMount's conditions change, so {@code kubectl
 * describe} tells the story (nodes at work, ready, degraded and why, stalled, recovered) and event
 * pipelines see what changed, not only the latest state.
 */
final class ConditionEvents {
  private ConditionEvents() {}

  static void record(
      EventRecorder events, HasMetadata object, List<Condition> before, List<Condition> after) {
    Condition reconciling = find(after, StatusAggregator.RECONCILING);
    if (changed(find(before, StatusAggregator.RECONCILING), reconciling)
        && "True".equals(reconciling.getStatus())) {
      events.normal(object, reconciling.getReason(), reconciling.getMessage()); // work begins
    }
    Condition stalled = find(after, StatusAggregator.STALLED);
    if (changed(find(before, StatusAggregator.STALLED), stalled)
        && "True".equals(stalled.getStatus())) {
      events.warning(object, stalled.getReason(), stalled.getMessage());
    }
    Condition ready = find(after, StatusAggregator.READY);
    if (changed(find(before, StatusAggregator.READY), ready)) {
      if ("True".equals(ready.getStatus())) {
        events.normal(object, ready.getReason(), ready.getMessage());
      } else if (find(before, StatusAggregator.READY) != null) {
        events.warning(object, ready.getReason(), ready.getMessage()); // it was ready before
      }
    }
    Condition degraded = find(after, StatusAggregator.DEGRADED);
    Condition wasDegraded = find(before, StatusAggregator.DEGRADED);
    if (changed(wasDegraded, degraded)) {
      if ("True".equals(degraded.getStatus())) {
        events.warning(object, degraded.getReason(), degraded.getMessage());
      } else if (wasDegraded != null && "True".equals(wasDegraded.getStatus())) {
        events.normal(object, ControllerReason.Recovered.name(), degraded.getMessage());
      }
    }
  }

  private static boolean changed(Condition before, Condition after) {
    return after != null && (before == null || !before.getStatus().equals(after.getStatus()));
  }

  private static Condition find(List<Condition> conditions, String type) {
    if (conditions == null) {
      return null;
    }
    return conditions.stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
  }
}
