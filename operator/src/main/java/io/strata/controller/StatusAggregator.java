package io.strata.controller;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.strata.crd.FailedNode;
import io.strata.kube.Redaction;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Folds per-node reports into one summary of constant size: ready and failed counts, at most 20
 * failed nodes, the chain ID once every ready node agrees, and the conditions {@code Ready}, {@code
 * Progressing} and {@code Degraded}. Pure, with an injected clock: a condition's {@code
 * lastTransitionTime} moves only when its status does.
 */
public final class StatusAggregator {
  public static final int MAX_FAILED_NODES = 20;

  public static final String READY = "Ready";
  public static final String PROGRESSING = "Progressing";
  public static final String DEGRADED = "Degraded";

  private final Clock clock;

  public StatusAggregator(Clock clock) {
    this.clock = clock;
  }

  /**
   * What one node said about the object.
   *
   * @param volumes pod volumes on the node that use it (LayerSets only)
   */
  public record NodeReport(
      String phase,
      String reason,
      String message,
      Long observedGeneration,
      String chainId,
      int volumes) {
    public NodeReport(
        String phase, String reason, String message, Long observedGeneration, String chainId) {
      this(phase, reason, message, observedGeneration, chainId, 0);
    }
  }

  /** The folded summary. */
  public record Summary(
      int desired,
      int ready,
      List<String> readyNodes,
      List<FailedNode> failed,
      int moreFailed,
      String chainId,
      List<Condition> conditions) {}

  /**
   * @param desiredNodes every node the selectors match, sorted or not
   * @param reports what nodes reported, by node name (a desired node may not have reported yet)
   * @param readyPhase the phase that counts as ready ({@code Ready}, {@code Mounted})
   */
  public Summary fold(
      List<String> desiredNodes,
      Map<String, NodeReport> reports,
      String readyPhase,
      long generation,
      List<Condition> previous) {
    int ready = 0;
    List<String> readyNodes = new ArrayList<>();
    List<FailedNode> failed = new ArrayList<>();
    String chainId = null;
    boolean chainAgrees = true;
    int waiting = 0;
    for (String node : desiredNodes.stream().sorted().toList()) {
      NodeReport report = reports.get(node);
      boolean current = report != null && Objects.equals(report.observedGeneration(), generation);
      if (current && readyPhase.equals(report.phase())) {
        ready++;
        readyNodes.add(node);
        if (chainId == null) {
          chainId = report.chainId();
        } else if (!chainId.equals(report.chainId())) {
          chainAgrees = false;
        }
      } else if (current && "Failed".equals(report.phase())) {
        failed.add(new FailedNode(node, report.reason(), report.message()));
      } else {
        waiting++;
      }
    }
    int desired = desiredNodes.size();
    List<Condition> conditions =
        List.of(
            condition(
                previous,
                READY,
                desired > 0 && ready == desired,
                desired == 0
                    ? ControllerReason.NoMatchingNodes.name()
                    : ready == desired
                        ? ControllerReason.AllNodesReady.name()
                        : ControllerReason.NodesNotReady.name(),
                ready + " of " + desired + " nodes ready",
                generation),
            condition(
                previous,
                PROGRESSING,
                waiting > 0,
                waiting > 0
                    ? ControllerReason.NodesInProgress.name()
                    : ControllerReason.Settled.name(),
                waiting + " nodes not yet ready or failed",
                generation),
            condition(
                previous,
                DEGRADED,
                !failed.isEmpty(),
                failed.isEmpty()
                    ? ControllerReason.NoFailures.name()
                    : ControllerReason.NodesFailed.name(),
                failed.isEmpty()
                    ? "no node failed"
                    : failed.size()
                        + " nodes failed, first "
                        + failed.getFirst().nodeName
                        + ": "
                        + failed.getFirst().reason,
                generation));
    List<FailedNode> shown =
        List.copyOf(failed.subList(0, Math.min(MAX_FAILED_NODES, failed.size())));
    return new Summary(
        desired,
        ready,
        List.copyOf(readyNodes),
        shown,
        failed.size() - shown.size(),
        chainAgrees ? chainId : null,
        conditions);
  }

  /**
   * Condition {@code type}, keeping its previous {@code lastTransitionTime} while its status stays
   * the same.
   */
  Condition condition(
      List<Condition> previous,
      String type,
      boolean status,
      String reason,
      String message,
      long generation) {
    String value = status ? "True" : "False";
    Condition old =
        previous == null
            ? null
            : previous.stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
    String since =
        old != null && value.equals(old.getStatus()) && old.getLastTransitionTime() != null
            ? old.getLastTransitionTime()
            : Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString();
    return new ConditionBuilder()
        .withType(type)
        .withStatus(value)
        .withReason(reason)
        .withMessage(Redaction.urls(message))
        .withObservedGeneration(generation)
        .withLastTransitionTime(since)
        .build();
  }
}
