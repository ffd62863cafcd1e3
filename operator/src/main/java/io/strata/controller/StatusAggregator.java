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
import java.util.function.Predicate;

/**
 * Folds per-node reports into one summary of constant size: ready and failed counts, at most 20
 * failed nodes, the chain ID once every ready node agrees, and the conditions {@code Ready}, {@code
 * Progressing} and {@code Degraded}, with kstatus's {@code Reconciling} and {@code Stalled} beside
 * them (what Flux and other GitOps tools read). Pure, with an injected clock: a condition's {@code
 * lastTransitionTime} moves only when its status does.
 */
public final class StatusAggregator {
  public static final int MAX_FAILED_NODES = 20;

  public static final String READY = "Ready";
  public static final String PROGRESSING = "Progressing";
  public static final String DEGRADED = "Degraded";

  /** kstatus: the object is not yet what its spec asks for, and is getting there. */
  public static final String RECONCILING = "Reconciling";

  /** kstatus: the object cannot get there without a change to it. */
  public static final String STALLED = "Stalled";

  private final Clock clock;
  private final Predicate<String> needsChange;

  /**
   * @param needsChange whether a node's failure reason is one only a change to the object gets past
   *     (see {@link NeedsChange})
   */
  public StatusAggregator(Clock clock, Predicate<String> needsChange) {
    this.clock = clock;
    this.needsChange = needsChange;
  }

  /**
   * What one node said about the object.
   *
   * @param volumes pod volumes on the node that use it (LayerSets only)
   * @param fetchedBytes while Fetching: bytes fetched so far (LayerSets only)
   * @param totalBytes while Fetching: bytes to fetch in all, when known (LayerSets only)
   */
  public record NodeReport(
      String phase,
      String reason,
      String message,
      Long observedGeneration,
      String chainId,
      int volumes,
      Long fetchedBytes,
      Long totalBytes) {
    public NodeReport(
        String phase, String reason, String message, Long observedGeneration, String chainId) {
      this(phase, reason, message, observedGeneration, chainId, 0, null, null);
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
    int working = 0; // reported, in this generation, on the way: Pending, Fetching, Mounting...
    int retrying = 0; // failed in a way that may pass: the node tries again by itself
    int stuck = 0; // failed in a way only a change to the object gets past
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
        if (report.reason() != null && needsChange.test(report.reason())) {
          stuck++;
        } else {
          retrying++;
        }
      } else {
        waiting++;
        if (current) {
          working++;
        }
      }
    }
    // Stalled: every node that reported failed, each for a reason only a change to the object
    // fixes. Reconciling: anything still on its way, or failed and trying again, and not Stalled.
    boolean stalled = stuck > 0 && ready == 0 && retrying == 0 && working == 0;
    boolean reconciling = !stalled && (waiting > 0 || retrying > 0);
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
                generation),
            condition(
                previous,
                RECONCILING,
                reconciling,
                reconciling
                    ? ControllerReason.NodesInProgress.name()
                    : ControllerReason.Settled.name(),
                reconciling
                    ? waiting + " nodes not yet ready or failed, " + retrying + " trying again"
                    : stalled ? "stalled: see Stalled" : "nothing left to do",
                generation),
            condition(
                previous,
                STALLED,
                stalled,
                stalled ? failed.getFirst().reason : ControllerReason.CanProgress.name(),
                stalled
                    ? "every node that reported failed in a way only a change to it fixes, first "
                        + failed.getFirst().nodeName
                        + ": "
                        + Objects.requireNonNullElse(
                            failed.getFirst().message, failed.getFirst().reason)
                    : "no node is stuck on this spec",
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
