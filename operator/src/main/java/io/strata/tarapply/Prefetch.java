package io.strata.tarapply;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Reads {@code source} to its end on a thread of its own, a bounded number of chunks ahead of the
 * reader: reading the blob, hashing it and decompressing it run beside tar parsing and writing, as
 * GNU tar's {@code gzip} or {@code zstd} process does. The reader sees the same bytes and the same
 * exception, in order; at most {@link #AHEAD} chunks of {@link #CHUNK} bytes wait. {@link #close()}
 * stops the thread and waits for it, so the source is never read after this stream is closed.
 */
final class Prefetch extends InputStream {
  static final int CHUNK = 256 << 10;
  static final int AHEAD = 16;

  private record Chunk(byte[] bytes, int length) {}

  private static final Chunk END = new Chunk(new byte[0], 0);

  private final BlockingQueue<Chunk> chunks = new ArrayBlockingQueue<>(AHEAD);
  // Buffers go round: no garbage per chunk. AHEAD queued, one being filled, one being read.
  private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(AHEAD + 2);
  private final Thread thread;
  private volatile IOException failure;
  private Chunk current;
  private int offset;
  private boolean ended;

  Prefetch(InputStream source) {
    for (int i = 0; i < AHEAD + 2; i++) {
      free.add(new byte[CHUNK]);
    }
    this.thread = Thread.ofPlatform().name("strata-layer-read").unstarted(() -> pump(source));
    thread.start();
  }

  private void pump(InputStream source) {
    try {
      while (true) {
        byte[] buffer = free.take();
        int n = source.readNBytes(buffer, 0, CHUNK);
        if (n <= 0) {
          break;
        }
        chunks.put(new Chunk(buffer, n));
      }
    } catch (IOException e) {
      failure = e;
    } catch (RuntimeException e) {
      failure = new IOException(e.getMessage(), e);
    } catch (InterruptedException e) {
      return; // closed: nobody reads any more
    }
    try {
      chunks.put(END);
    } catch (InterruptedException e) {
      // closed
    }
  }

  @Override
  public int read() throws IOException {
    return Streams.readOne(this);
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    if (current == null || offset == current.length()) {
      if (ended) {
        return -1;
      }
      if (current != null) {
        free.add(current.bytes());
      }
      try {
        current = chunks.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while reading a layer");
      }
      offset = 0;
      if (current == END) {
        ended = true;
        if (failure != null) {
          throw failure;
        }
        return -1;
      }
    }
    int n = Math.min(len, current.length() - offset);
    System.arraycopy(current.bytes(), offset, b, off, n);
    offset += n;
    return n;
  }

  @Override
  public void close() {
    thread.interrupt();
    boolean interrupted = false;
    while (thread.isAlive()) {
      chunks.clear(); // a pump blocked on a full queue moves on and sees the interrupt
      try {
        thread.join(50);
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
