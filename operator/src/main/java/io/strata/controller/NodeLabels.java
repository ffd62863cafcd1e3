package io.strata.controller;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one scheduling label in step with where it is true: {@code key=value} on exactly the nodes
 * in {@code holding}. Each change is a JSON merge patch of that one key, so it never conflicts with
 * other writers of the Node and never touches other labels.
 */
final class NodeLabels {
  private static final Logger log = LoggerFactory.getLogger(NodeLabels.class);

  private NodeLabels() {}

  static void sync(
      KubernetesClient client,
      Collection<Node> nodes,
      String key,
      String value,
      Set<String> holding) {
    for (Node node : nodes) {
      String name = node.getMetadata().getName();
      Map<String, String> labels = node.getMetadata().getLabels();
      String current = labels == null ? null : labels.get(key);
      boolean wanted = holding.contains(name);
      if (wanted && !value.equals(current)) {
        patch(client, name, "{\"metadata\":{\"labels\":{\"" + key + "\":\"" + value + "\"}}}");
      } else if (!wanted && current != null) {
        patch(client, name, "{\"metadata\":{\"labels\":{\"" + key + "\":null}}}");
      }
    }
  }

  private static void patch(KubernetesClient client, String node, String mergePatch) {
    log.info("node {}: {}", node, mergePatch);
    client
        .nodes()
        .withName(node)
        .patch(new PatchContext.Builder().withPatchType(PatchType.JSON_MERGE).build(), mergePatch);
  }
}
