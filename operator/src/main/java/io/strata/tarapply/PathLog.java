package io.strata.tarapply;

import io.strata.tarapply.LayerException.Reason;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Paths with a number each, in the order they were added: what a layer defers to its end (directory
 * times, opaque directories). Kept as UTF-8 in 1 MiB chunks that are never copied to grow, each
 * path front-coded against the one before it (a tar lists a directory's children after it, so most
 * of each path is its parent's): a few bytes a record. Past {@code maxBytes} a layer is refused
 * ({@link Reason#SizeLimit}).
 */
final class PathLog {
  private static final int CHUNK = 1 << 20;

  private final long maxBytes;
  private final String what;
  private final List<ByteBuffer> chunks = new ArrayList<>();
  private byte[] last = new byte[0];
  private long bytes;

  /** {@code what} names the records in a refusal, such as "directory times". */
  PathLog(long maxBytes, String what) {
    this.maxBytes = maxBytes;
    this.what = what;
  }

  void add(String path, long value) throws LayerException {
    byte[] utf8 = path.getBytes(StandardCharsets.UTF_8);
    int shared = 0;
    while (shared < utf8.length && shared < last.length && utf8[shared] == last[shared]) {
      shared++;
    }
    int record = 2 * Short.BYTES + (utf8.length - shared) + Long.BYTES; // paths < 32 KiB
    bytes += record;
    if (bytes > maxBytes) {
      throw new LayerException(
          Reason.SizeLimit, "the layer's " + what + " take more than " + maxBytes + " bytes");
    }
    ByteBuffer chunk = chunks.isEmpty() ? null : chunks.getLast();
    if (chunk == null || chunk.remaining() < record) {
      chunk = ByteBuffer.allocate(Math.max(CHUNK, record));
      chunks.add(chunk);
    }
    chunk
        .putShort((short) shared)
        .putShort((short) (utf8.length - shared))
        .put(utf8, shared, utf8.length - shared)
        .putLong(value);
    last = utf8;
  }

  interface Visitor {
    void visit(String path, long value) throws java.io.IOException;
  }

  void forEach(Visitor visitor) throws java.io.IOException {
    byte[] previous = new byte[0];
    for (ByteBuffer chunk : chunks) {
      ByteBuffer read = chunk.duplicate().flip();
      while (read.hasRemaining()) {
        int shared = read.getShort();
        byte[] utf8 = Arrays.copyOf(previous, shared + read.getShort());
        read.get(utf8, shared, utf8.length - shared);
        visitor.visit(new String(utf8, StandardCharsets.UTF_8), read.getLong());
        previous = utf8;
      }
    }
  }

  void clear() {
    chunks.clear();
    last = new byte[0];
    bytes = 0;
  }
}
