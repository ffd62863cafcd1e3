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
    int maxSparseRegions) {

  /**
   * Generous for real images, small enough that a bomb stops early. A sparse file's regions each
   * cost Commons Compress an object or two, so their number bounds memory, not only time.
   */
  public static final Limits DEFAULT =
      new Limits(1_000_000, 64L << 30, 1 << 20, 4096, 256, 128, 64 << 10, 100_000);

  public Limits withMaxUncompressedBytes(long bytes) {
    return new Limits(
        maxEntries,
        bytes,
        maxHeaderBytes,
        maxPathBytes,
        maxDepth,
        maxXattrsPerEntry,
        maxXattrValueBytes,
        maxSparseRegions);
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
        maxSparseRegions);
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
        regions);
  }
}
