package io.strata.tarapply;

import java.io.IOException;
import java.io.InputStream;

/** Stream helpers for the layer pipeline, whose filters must see every byte they pass on. */
final class Streams {
  private Streams() {}

  /**
   * {@link InputStream#read()} in terms of {@code in}'s array read, for filters that work on
   * arrays.
   */
  static int readOne(InputStream in) throws IOException {
    byte[] one = new byte[1];
    return in.read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  /** Skips by reading, so a filter that hashes, counts or checks what passes sees the bytes. */
  static long skipByReading(InputStream in, long n) throws IOException {
    byte[] scratch = new byte[(int) Math.min(Math.max(n, 1), 8192)];
    long skipped = 0;
    while (skipped < n) {
      int got = in.read(scratch, 0, (int) Math.min(scratch.length, n - skipped));
      if (got < 0) {
        break;
      }
      skipped += got;
    }
    return skipped;
  }
}
