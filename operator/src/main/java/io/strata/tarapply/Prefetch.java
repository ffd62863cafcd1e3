package io.strata.tarapply;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Reads {@code source} to its end on a thread of its own, a bounded number of chunks ahead of the
 * reader: reading the blob, hashing it and decompressing it run beside tar parsing and writing, as
 * GNU tar's {@code gzip} or {@code zstd} process does. The reader sees the same bytes and the same
 * exception, in order; at most {@link #AHEAD} chunks of {@link #CHUNK} bytes wait. {@link #close()}
 * stops the thread and waits for it, so the source is never read after this stream is closed.
 *
 * <p>Given a digest, every chunk also goes into it, in order, on whichever thread has time: the
 * reading thread while it would otherwise wait for the reader to free a buffer, the reader's own
 * when it is done with a chunk nobody has hashed yet. Which thread is the slower one changes along
 * a layer (decompressing large files, parsing and creating small ones), and so does who hashes.
 */
final class Prefetch extends InputStream {
  static final int CHUNK = 256 << 10;
  static final int AHEAD = 16;

  private record Chunk(byte[] bytes, int length, long sequence) {}

  private static final Chunk END = new Chunk(new byte[0], 0, -1);

  private final BlockingQueue<Chunk> chunks = new ArrayBlockingQueue<>(AHEAD);
  // Buffers go round: no garbage per chunk. AHEAD queued, one being filled, one being read.
  private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(AHEAD + 2);
  private final Thread thread;
  private volatile IOException failure;
  private Chunk current;
  private int offset;
  private boolean ended;

  /** Null, or what every chunk goes into. */
  private final MessageDigest digest;

  /** Chunks before this one are in the digest; written holding the digest's lock. */
  private volatile long hashed;

  /** The reading thread's own list of chunks it has passed on and may still hash. */
  private final ArrayDeque<Chunk> passedOn = new ArrayDeque<>();

  Prefetch(InputStream source) {
    this(source, null);
  }

  Prefetch(InputStream source, MessageDigest digest) {
    this.digest = digest;
    for (int i = 0; i < AHEAD + 2; i++) {
      free.add(new byte[CHUNK]);
    }
    this.thread = Thread.ofPlatform().name("strata-layer-read").unstarted(() -> pump(source));
    thread.start();
  }

  private void pump(InputStream source) {
    try {
      for (long sequence = 0; ; sequence++) {
        byte[] buffer = freeBuffer();
        int n = source.readNBytes(buffer, 0, CHUNK);
        if (n <= 0) {
          break;
        }
        Chunk chunk = new Chunk(buffer, n, sequence);
        if (digest != null) {
          dropHashed(); // at most the chunks in flight stay listed
          passedOn.add(chunk);
        }
        passOn(chunk);
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

  /** A buffer to fill; while none is free, the chunks the reader has not reached are hashed. */
  private byte[] freeBuffer() throws InterruptedException {
    byte[] buffer;
    while ((buffer = free.poll()) == null) {
      if (!hashNextPassedOn()) {
        return free.take();
      }
    }
    return buffer;
  }

  /** Queues {@code chunk}; while the queue is full, the chunks in it are hashed. */
  private void passOn(Chunk chunk) throws InterruptedException {
    while (!chunks.offer(chunk)) {
      if (!hashNextPassedOn()) {
        chunks.put(chunk);
        return;
      }
    }
  }

  /** Hashes the oldest chunk passed on that nobody has hashed; false when there is none. */
  private boolean hashNextPassedOn() {
    if (digest == null) {
      return false;
    }
    synchronized (digest) {
      dropHashed(); // their buffers may be back in use
      Chunk next = passedOn.poll();
      if (next == null) {
        return false;
      }
      digest.update(next.bytes(), 0, next.length());
      hashed = next.sequence() + 1;
      return true;
    }
  }

  /** Forgets the chunks at the front of {@link #passedOn} that the reader has hashed. */
  private void dropHashed() {
    while (!passedOn.isEmpty() && passedOn.peek().sequence() < hashed) {
      passedOn.poll();
    }
  }

  /** Before its buffer goes back, the chunk the reader is done with is in the digest. */
  private void hashDone(Chunk chunk) {
    if (digest == null || hashed > chunk.sequence()) {
      return;
    }
    synchronized (digest) {
      if (hashed == chunk.sequence()) {
        digest.update(chunk.bytes(), 0, chunk.length());
        hashed = chunk.sequence() + 1;
      }
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
        hashDone(current);
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
