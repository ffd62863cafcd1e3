package io.strata.controller;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Node;
import io.strata.kube.LabelSelectors;
import java.util.Collection;
import java.util.List;

/** Which Nodes a resource's selectors pick, whatever those Nodes' conditions. */
final class NodeCounts {
  private NodeCounts() {}

  /** The names of the Nodes matching every given selector (a null selector matches all). */
  static List<String> matching(Collection<Node> nodes, LabelSelector... selectors) {
    return nodes.stream()
        .filter(node -> matchesAll(node, selectors))
        .map(node -> node.getMetadata().getName())
        .sorted()
        .toList();
  }

  private static boolean matchesAll(Node node, LabelSelector... selectors) {
    for (LabelSelector selector : selectors) {
      if (!LabelSelectors.matches(selector, node.getMetadata().getLabels())) {
        return false;
      }
    }
    return true;
  }
}
