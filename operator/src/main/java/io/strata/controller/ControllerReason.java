package io.strata.controller;

/**
 * Reasons the controller gives in a LayerSet's or OverlayMount's conditions and Events, spelled as
 * they appear there (reasons that nodes report pass through as the nodes spell them).
 */
public enum ControllerReason {
  /** Ready: every selected node is ready. */
  AllNodesReady,
  /** Ready=False: some selected node is not ready yet, or failed. */
  NodesNotReady,
  /** Ready=False: no node matches the selector. */
  NoMatchingNodes,
  /** Progressing: some node is still fetching, building or mounting. */
  NodesInProgress,
  /** Progressing=False: every node is ready or failed. */
  Settled,
  /** Stalled=False: every failure so far may pass without a change to the object. */
  CanProgress,
  /** Degraded=False. */
  NoFailures,
  /** Degraded: some node failed; the message names the first. */
  NodesFailed,
  /** Degraded turned False (an Event). */
  Recovered,
  /** The image's tag was pinned to a digest (condition {@code Resolved} and an Event). */
  Resolved,
  /** Deleting=False: the deletion waits for an OverlayMount or pod volumes still using it. */
  InUse,
  /** The deletion finished: the finalizer is removed (an Event). */
  TornDown
}
