package io.strata.tarapply;

/**
 * Bounds on what one layer may ask for, so a hostile archive stops with {@link
 * LayerException.Reason#SizeLimit} in bounded memory and time.
 */
public record Limits(
    long maxEntries,
    long maxUncompressedBytes,
    int maxHeaderBytes,
    int maxPathBytes,
    int maxDepth,
    int maxXattrsPerEntry,
    int maxXattrValueBytes,
    int maxSparseRegions,
    long maxLayerPaths,
    long maxDeferredBytes) {

  /**
   * Generous for real images, small enough that a bomb stops early. A sparse file's regions each
   * cost Commons Compress an object or two, so their number bounds memory, not only time. What the
   * writer keeps for a layer is bounded too, so that the agent's 64 MiB heap holds a layer at every
   * limit at once: at most a million distinct paths (16 bytes each; a layer's entries and the
   * directories they imply), and 8 MiB for the directory times and opaque directories it defers to
   * its end (front-coded: some 200,000 directories of long names).
   */
  public static final Limits DEFAULT =
      new Limits(
          1_000_000, 64L << 30, 1 << 20, 4096, 256, 128, 64 << 10, 100_000, 1_000_000, 8L << 20);

  public Limits withMaxUncompressedBytes(long bytes) {
    return new Limits(
        maxEntries,
        bytes,
        maxHeaderBytes,
        maxPathBytes,
        maxDepth,
        maxXattrsPerEntry,
        maxXattrValueBytes,
        maxSparseRegions,
        maxLayerPaths,
        maxDeferredBytes);
  }

  public Limits withMaxEntries(long entries) {
    return new Limits(
        entries,
        maxUncompressedBytes,
        maxHeaderBytes,
        maxPathBytes,
        maxDepth,
        maxXattrsPerEntry,
        maxXattrValueBytes,
        maxSparseRegions,
        maxLayerPaths,
        maxDeferredBytes);
  }

  public Limits withMaxSparseRegions(int regions) {
    return new Limits(
        maxEntries,
        maxUncompressedBytes,
        maxHeaderBytes,
        maxPathBytes,
        maxDepth,
        maxXattrsPerEntry,
        maxXattrValueBytes,
        regions,
        maxLayerPaths,
        maxDeferredBytes);
  }

  public Limits withMaxLayerPaths(long paths, long deferredBytes) {
    return new Limits(
        maxEntries,
        maxUncompressedBytes,
        maxHeaderBytes,
        maxPathBytes,
        maxDepth,
        maxXattrsPerEntry,
        maxXattrValueBytes,
        maxSparseRegions,
        paths,
        deferredBytes);
  }
}
