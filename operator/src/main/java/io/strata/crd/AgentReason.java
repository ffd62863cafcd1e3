package io.strata.crd;

/**
 * Reasons the agent itself gives in a NodeLayerState entry, beside those of the domains it runs
 * ({@code LayerException}, {@code FetchException}, {@code MountRefusedException}): spelled as the
 * entry and its Event carry them.
 */
public enum AgentReason {
  /** A LayerSet past the node's bound ({@code NodeLayerState.MAX_ENTRIES}). */
  NodeLimit,
  /** An image named by tag, until the controller has pinned it to a digest. */
  WaitingForResolvedImage,
  /** A mount on an older root of its LayerSet, kept until nothing uses it. */
  Outdated,
  /** A spec the agent cannot act on, though the API server admitted it. */
  InvalidSpec,
  /** A file system call failed while a mount was made or torn down. */
  IOError,
  /** A failure the agent did not expect: a bug, reported instead of stopping the node's pass. */
  InternalError
}
