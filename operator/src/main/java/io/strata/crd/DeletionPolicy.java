package io.strata.crd;

/** What deleting a LayerSet or OverlayMount waits for. */
public enum DeletionPolicy {
  /** Keep the finalizer until every live selected node has torn the object down. */
  WaitForNodes,
  /** Remove the finalizer at once and leave nodes as they are. */
  Orphan
}
