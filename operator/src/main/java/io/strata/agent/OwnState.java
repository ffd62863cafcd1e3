package io.strata.agent;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.strata.crd.NodeLayerState;
import io.strata.crd.StrataApi;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** This node's NodeLayerState object: named after the node, labelled, owned by its Node. */
final class OwnState {
  private OwnState() {}

  /** The object the agent applies: labelled for its watch, owned by the Node if it exists. */
  static NodeLayerState of(String nodeName, Node self) {
    NodeLayerState state = new NodeLayerState();
    state.getMetadata().setName(nodeName);
    state.getMetadata().setLabels(Map.of(StrataApi.NODE_LABEL, nodeName));
    if (self != null) {
      state.getMetadata().setOwnerReferences(List.of(ownerReference(self)));
    }
    return state;
  }

  /** Whether {@code state} names {@code self} (this Node, by uid) as its owner. */
  static boolean ownedBy(NodeLayerState state, Node self) {
    List<OwnerReference> owners = state.getMetadata().getOwnerReferences();
    return owners != null
        && owners.stream().anyMatch(o -> Objects.equals(o.getUid(), self.getMetadata().getUid()));
  }

  private static OwnerReference ownerReference(Node self) {
    return new OwnerReferenceBuilder()
        .withApiVersion("v1")
        .withKind("Node")
        .withName(self.getMetadata().getName())
        .withUid(self.getMetadata().getUid())
        .build();
  }
}
