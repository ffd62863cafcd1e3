package io.strata.cli;

import io.strata.layerstore.LayerStore;
import java.io.PrintStream;
import java.util.Locale;

/**
 * The progress of {@code strata materialize} for a person at a terminal: one line on stderr,
 * redrawn in place at most ten times a second, per layer: which of how many, bytes of the blob read
 * of its size, entries applied. Ends with a newline once the build is done.
 */
final class ProgressBar implements LayerStore.Progress {
  private static final long REDRAW_NANOS = 100_000_000L;
  private static final int WIDTH = 24;

  private final PrintStream out;
  private long lastDraw;
  private int lastLayer = -1;
  private boolean drawn;
  // What the last call said: finish() draws it.
  private int layers;
  private long blobSize;
  private long blobBytes;
  private long entries;

  ProgressBar(PrintStream out) {
    this.out = out;
  }

  @Override
  public void applying(int layer, int layers, long blobSize, long blobBytes, long entries) {
    this.layers = layers;
    this.blobSize = blobSize;
    this.blobBytes = blobBytes;
    this.entries = entries;
    long now = System.nanoTime();
    if (layer == lastLayer && now - lastDraw < REDRAW_NANOS) {
      return;
    }
    lastLayer = layer;
    lastDraw = now;
    draw(layer, layers, blobSize, blobBytes, entries);
  }

  private void draw(int layer, int layers, long blobSize, long blobBytes, long entries) {
    double done = blobSize <= 0 ? 1 : Math.min(1, (double) blobBytes / blobSize);
    int filled = (int) Math.round(done * WIDTH);
    out.printf(
        Locale.ROOT,
        "\rlayer %d/%d [%s%s] %s of %s, %d entries\u001b[K",
        layer + 1,
        layers,
        "#".repeat(filled),
        " ".repeat(WIDTH - filled),
        mib(blobBytes),
        mib(blobSize),
        entries);
    out.flush();
    drawn = true;
  }

  /** Draws where the build ended and ends the line, if anything was drawn. */
  void finish() {
    if (drawn) {
      draw(lastLayer, layers, blobSize, blobBytes, entries);
      out.println();
      out.flush();
    }
  }

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
  }
}
