package io.strata.controller;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the scheduling labels in step with where they are true: {@code key=value} on exactly the
 * nodes each reconciler says hold it. Reconcilers only declare; one worker writes, a moment later,
 * one JSON merge patch per Node carrying every label that changed on it, so 50 LayerSets becoming
 * Ready on 5,000 nodes is 5,000 writes, not 250,000. A merge patch of only Strata's keys never
 * conflicts with other writers of the Node and never touches other labels.
 */
final class NodeLabels implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeLabels.class);
  private static final long COALESCE_MILLIS = 100;

  /** A patch whose effect the cache has not shown yet is not sent again before this. */
  private static final long RESEND_MILLIS = 10_000;

  /** {@code value} on exactly {@code nodes}, by name. */
  record Desired(String value, Set<String> nodes) {}

  private record Sent(Map<String, String> labels, long at) {}

  private final KubernetesClient client;
  private final Map<String, Desired> desired = new ConcurrentHashMap<>();
  private final Map<String, Sent> sent = new ConcurrentHashMap<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private final ScheduledExecutorService worker =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().name("node-labels").daemon().unstarted(r));
  private volatile Collection<Node> nodes = List.of();

  NodeLabels(KubernetesClient client) {
    this.client = client;
  }

  /** {@code key=value} belongs on exactly {@code holding} of {@code nodes} (the cache's view). */
  void want(Collection<Node> nodes, String key, String value, Set<String> holding) {
    this.nodes = nodes;
    Desired next = new Desired(value, Set.copyOf(holding));
    if (!next.equals(desired.put(key, next)) || needsWork(nodes, key, next)) {
      schedule();
    }
  }

  private static boolean needsWork(Collection<Node> nodes, String key, Desired want) {
    for (Node node : nodes) {
      String current = label(node, key);
      String target = want.nodes().contains(node.getMetadata().getName()) ? want.value() : null;
      if (!Objects.equals(current, target)) {
        return true;
      }
    }
    return false;
  }

  private void schedule() {
    if (scheduled.compareAndSet(false, true)) {
      worker.schedule(this::flush, COALESCE_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  /** One merge patch per Node whose Strata labels differ from what is wanted. */
  private void flush() {
    scheduled.set(false);
    long now = System.currentTimeMillis();
    int patches = 0;
    for (Node node : nodes) {
      String name = node.getMetadata().getName();
      Map<String, String> change = change(node, desired);
      Sent last = sent.get(name);
      if (change.isEmpty()) {
        sent.remove(name); // the cache shows what was sent
        continue;
      }
      if (last != null && last.labels().equals(change) && now - last.at() < RESEND_MILLIS) {
        continue; // sent moments ago; the watch has not shown it yet
      }
      try {
        patch(name, change);
        sent.put(name, new Sent(change, now));
        patches++;
      } catch (KubernetesClientException e) {
        log.warn("labelling node {} failed: {}", name, e.getMessage());
      }
    }
    // Keys no node should carry any more, and none does, need no attention.
    desired
        .entrySet()
        .removeIf(
            e -> e.getValue().nodes().isEmpty() && !needsWork(nodes, e.getKey(), e.getValue()));
    if (patches > 0) {
      log.info("patched labels on {} nodes", patches);
      schedule(); // confirm once the cache has caught up (and resend what was lost)
    } else if (!sent.isEmpty()) {
      worker.schedule(this::schedule, 1, TimeUnit.SECONDS);
    }
  }

  /**
   * The merge patch of {@code node}'s labels that makes it carry what {@code desired} says, key by
   * key: a value to set, or null to remove; empty when it already does. Other labels are never in
   * it.
   */
  static Map<String, String> change(Node node, Map<String, Desired> desired) {
    String name = node.getMetadata().getName();
    Map<String, String> change = new LinkedHashMap<>();
    for (Map.Entry<String, Desired> want : desired.entrySet()) {
      String current = label(node, want.getKey());
      String target = want.getValue().nodes().contains(name) ? want.getValue().value() : null;
      if (!Objects.equals(current, target)) {
        change.put(want.getKey(), target);
      }
    }
    return change;
  }

  private void patch(String node, Map<String, String> labels) {
    Map<String, Object> patch = Map.of("metadata", Map.of("labels", new HashMap<>(labels)));
    client
        .nodes()
        .withName(node)
        .patch(
            new PatchContext.Builder().withPatchType(PatchType.JSON_MERGE).build(),
            Serialization.asJson(patch));
  }

  private static String label(Node node, String key) {
    Map<String, String> labels = node.getMetadata().getLabels();
    return labels == null ? null : labels.get(key);
  }

  @Override
  public void close() {
    worker.shutdownNow();
  }
}
