package io.strata.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.strata.crd.DeletionPolicy;
import io.strata.crd.NodeLayerState;
import io.strata.crd.StrataApi;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Decides when a deleted object's nodes are done with it: when no live node still lists it in its
 * NodeLayerState. A node is not live when its Node is gone or its agent's Lease has been expired
 * for longer than the grace period, so a dead node never blocks a deletion forever, and a node that
 * is merely slow always gets its chance to tear down.
 */
final class Teardown {
  private final String namespace;
  private final Duration grace;
  private final Clock clock;

  Teardown(String namespace, Duration grace, Clock clock) {
    this.namespace = namespace;
    this.grace = grace;
    this.clock = clock;
  }

  /**
   * While a live selected node still lists the deleted object {@code name} ({@code listed} gives
   * the names a NodeLayerState lists), the control that keeps the finalizer and looks again soon;
   * empty once none does, and at once for {@code deletionPolicy: Orphan}.
   */
  <P extends HasMetadata> Optional<DeleteControl> waitForNodes(
      Context<P> context,
      DeletionPolicy policy,
      Function<NodeLayerState.Status, Set<String>> listed,
      String name) {
    if (policy == DeletionPolicy.Orphan) {
      return Optional.empty();
    }
    List<String> waiting =
        nodesStillListing(
            context.getClient(),
            Secondaries.nodes(context),
            Secondaries.nodeLayerStates(context),
            listed,
            name);
    return waiting.isEmpty()
        ? Optional.empty()
        : Optional.of(DeleteControl.noFinalizerRemoval().rescheduleAfter(Duration.ofSeconds(5)));
  }

  /** The TornDown Event's message. */
  static String tornDown(DeletionPolicy policy) {
    return policy == DeletionPolicy.Orphan
        ? "deletionPolicy Orphan: finalizer removed without waiting for nodes"
        : "every live selected node tore it down; finalizer removed";
  }

  /** Live nodes whose NodeLayerState still lists the object ({@code listed} gives the names). */
  List<String> nodesStillListing(
      KubernetesClient client,
      Collection<Node> nodes,
      Collection<NodeLayerState> states,
      Function<NodeLayerState.Status, Set<String>> listed,
      String name) {
    Set<String> existing =
        nodes.stream().map(n -> n.getMetadata().getName()).collect(Collectors.toSet());
    return states.stream()
        .filter(s -> s.getStatus() != null && listed.apply(s.getStatus()).contains(name))
        .map(s -> s.getMetadata().getName())
        .filter(existing::contains)
        .filter(node -> isLive(client, node))
        .sorted()
        .toList();
  }

  private boolean isLive(KubernetesClient client, String node) {
    Lease lease =
        client.leases().inNamespace(namespace).withName(StrataApi.AGENT_LEASE_PREFIX + node).get();
    if (lease == null || lease.getSpec() == null || lease.getSpec().getRenewTime() == null) {
      return true; // no heartbeat recorded yet: give the node the benefit of the doubt
    }
    Instant renewed = lease.getSpec().getRenewTime().toInstant();
    int seconds =
        lease.getSpec().getLeaseDurationSeconds() == null
            ? 40
            : lease.getSpec().getLeaseDurationSeconds();
    return renewed.plusSeconds(seconds).plus(grace).isAfter(Instant.now(clock));
  }
}
