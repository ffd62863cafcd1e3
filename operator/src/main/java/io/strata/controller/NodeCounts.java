package io.strata.controller;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Node;
import io.strata.kube.LabelSelectors;
import java.util.Collection;

/** Which Nodes a resource's selectors pick, whatever those Nodes' conditions. */
final class NodeCounts {
  private NodeCounts() {}

  /** Nodes matching every given selector (a null selector matches all). */
  static int matching(Collection<Node> nodes, LabelSelector... selectors) {
    int count = 0;
    for (Node node : nodes) {
      if (matchesAll(node, selectors)) {
        count++;
      }
    }
    return count;
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
