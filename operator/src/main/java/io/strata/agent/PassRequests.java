package io.strata.agent;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.strata.crd.NodeLayerState;

/**
 * How the agent's parts ask for a pass soon (a download finished, a retry is due, a busy mount may
 * be free, a pod asked for a LayerSet): an event source of the reconciler's, made before it so the
 * parts it is given can hold it.
 */
final class PassRequests {
  private final SimpleInboundEventSource<NodeLayerState> source = new SimpleInboundEventSource<>();
  private final ResourceID node;

  PassRequests(String nodeName) {
    this.node = new ResourceID(nodeName);
  }

  /** Asks for a pass of this node's reconciler. */
  void ask() {
    source.propagateEvent(node);
  }

  EventSource<?, NodeLayerState> eventSource() {
    return source;
  }
}
