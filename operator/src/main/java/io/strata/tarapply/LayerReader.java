package io.strata.tarapply;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import io.strata.oci.Digest;
import io.strata.tarapply.LayerException.Reason;
import io.strata.tarapply.TarGuard.GuardException;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Reads one layer blob into a {@link RootWriter}: decompresses (gzip, zstd or none, as declared and
 * as the magic bytes agree), measures the blob digest over every byte and the diffID over the
 * uncompressed tar, and applies each entry in order. One pass, bounded memory.
 *
 * <pre>
 * a thread of its own:  file -> sha256 (blob digest) -> gunzip | unzstd
 * the caller's thread:   -> sha256 (diffID, when compressed), byte limit -> TarGuard -> buffer
 *                        -> Commons Compress tar reader -> EntryPlanner -> RootWriter
 * </pre>
 */
public final class LayerReader {
  /** zstd frames may ask for a window of at most 2^27 bytes (128 MiB). */
  static final int ZSTD_MAX_WINDOW_LOG = 27;

  private static final int BUFFER = 64 << 10;
  private static final int HEADER_BUFFER = 8 << 10;

  private final Limits limits;
  private final EntryPlanner planner;

  public LayerReader(Limits limits) {
    this.limits = limits;
    this.planner = new EntryPlanner(limits);
  }

  /** What reading a layer found out. */
  public record Applied(Digest blobDigest, Digest diffId, long entries, long uncompressedBytes) {}

  /** Hears how far an apply is, after each entry: bytes of the blob read, entries applied. */
  @FunctionalInterface
  public interface Progress {
    void advanced(long blobBytes, long entries);

    Progress NONE = (blobBytes, entries) -> {};
  }

  /**
   * Applies the layer in {@code blob} to {@code writer}'s root. A refusal names the layer first
   * (the node's blobs are named by their digests), then what in it was refused.
   */
  public Applied apply(Path blob, String mediaType, RootWriter writer) throws LayerException {
    return apply(blob, mediaType, writer, Progress.NONE);
  }

  /** As {@link #apply(Path, String, RootWriter)}, telling {@code progress} after each entry. */
  public Applied apply(Path blob, String mediaType, RootWriter writer, Progress progress)
      throws LayerException {
    try {
      return read(blob, mediaType, writer, progress);
    } catch (LayerException e) {
      throw new LayerException(e.reason(), blob + ": " + e.getMessage(), e);
    }
  }

  private Applied read(Path blob, String mediaType, RootWriter writer, Progress progress)
      throws LayerException {
    Compression declared = Compression.ofMediaType(mediaType);
    try (Position position = new Position(Files.newInputStream(blob));
        InputStream file = new BufferedInputStream(position, BUFFER)) {
      Compression actual = Compression.sniff(file);
      if (declared != null && declared != actual) {
        throw new LayerException(
            Reason.UnsupportedMediaType, "declared " + mediaType + ", but its bytes are " + actual);
      }
      boolean plain = actual == Compression.NONE;
      MessageDigest blobSha = Digest.sha256();
      // An uncompressed blob is its own tar: one hash serves as blob digest and diffID.
      MessageDigest diffSha = plain ? blobSha : Digest.sha256();
      // Buffered above the digest: decompressors mark and reset, which must not hash twice.
      InputStream raw =
          plain
              ? new DigestInputStream(file, blobSha)
              : new BufferedInputStream(new DigestInputStream(file, blobSha), BUFFER);
      // Reading, hashing the blob and decompressing run on a thread of their own, beside parsing
      // and writing, as GNU tar's gzip or zstd process does. The diffID of a compressed blob is
      // hashed by whichever of the two threads has time (measured with gzip and zstd: on either
      // thread alone it makes that one the slower where the layer favours it).
      try (Prefetch tarStream = new Prefetch(decompressor(raw, actual), plain ? null : diffSha)) {
        Metered tarBytes = new Metered(tarStream, limits.maxUncompressedBytes());
        long entries = applyEntries(tarBytes, writer, position, progress); // the tar to its end
        // The thread has stopped at the end of the tar; bytes after a compressed stream still
        // count toward the blob digest.
        raw.transferTo(OutputStream.nullOutputStream());
        Digest diffId = Digest.of(diffSha);
        Digest blobDigest = plain ? diffId : Digest.of(blobSha);
        return new Applied(blobDigest, diffId, entries, tarBytes.count);
      }
    } catch (GuardException e) {
      throw e.refusal;
    } catch (IOException e) {
      throw classify(e, blob);
    }
  }

  private long applyEntries(
      Metered tarBytes, RootWriter writer, Position position, Progress progress)
      throws LayerException, IOException {
    TarGuard guard = new TarGuard(tarBytes, limits);
    // Commons Compress reads PAX records a byte at a time; a small buffer answers those reads
    // without a trip through the guard and the digests, and larger reads bypass it. The guard then
    // runs ahead of the reader by up to one buffer: it queues the entries it has seen, and each
    // entry the reader returns must start where the guard saw it start.
    InputStream buffered = new BufferedInputStream(guard, HEADER_BUFFER);
    Counted consumed = new Counted(buffered);
    TarArchiveInputStream tar = new TarArchiveInputStream(consumed);
    long entries = 0;
    long sparseBytes = 0; // the sizes sparse files claim: their holes cost no archive bytes
    writer.beginLayer();
    for (TarArchiveEntry entry; (entry = tar.getNextEntry()) != null; ) {
      if (++entries > limits.maxEntries()) {
        throw new LayerException(
            Reason.SizeLimit, "the layer has more than " + limits.maxEntries() + " entries");
      }
      if (entry.isSparse()) {
        sparseBytes += entry.getRealSize();
      }
      if (sparseBytes > 0 && sparseBytes + consumed.count > limits.maxUncompressedBytes()) {
        throw new LayerException(
            Reason.SizeLimit,
            "sparse file "
                + entry.getName()
                + " takes the layer past "
                + limits.maxUncompressedBytes()
                + " bytes, counting the holes of its sparse files");
      }
      TarGuard.Header header = guard.nextHeader(consumed.count, entry.isSparse());
      EntryAction action = planner.plan(entry, header.pax());
      writer.apply(action, tar);
      progress.advanced(position.read, entries);
    }
    if (!guard.sawEndOfArchive()) {
      throw new LayerException(
          Reason.Truncated, "the tar stream ends without an end-of-archive block");
    }
    buffered.transferTo(OutputStream.nullOutputStream()); // only zeros may follow the end block
    writer.endLayer();
    return entries;
  }

  private static InputStream decompressor(InputStream in, Compression compression)
      throws IOException {
    return switch (compression) {
      case NONE -> in;
      case GZIP -> new GzipCompressorInputStream(in, true);
      case ZSTD -> {
        ZstdInputStreamNoFinalizer zstd = new ZstdInputStreamNoFinalizer(in);
        zstd.setLongMax(ZSTD_MAX_WINDOW_LOG);
        yield zstd;
      }
    };
  }

  private static LayerException classify(IOException e, Path blob) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof GuardException guard) {
        return guard.refusal;
      }
    }
    String message = String.valueOf(e.getMessage());
    if (e instanceof FileSystemException named && blob.toString().equals(named.getFile())) {
      // the layer's own file, which the message's prefix names already: only what went wrong
      message =
          named instanceof NoSuchFileException
              ? "no such file"
              : named.getReason() != null ? named.getReason() : named.getClass().getSimpleName();
    }
    if (message.contains("No space left on device") || message.contains("Disk quota exceeded")) {
      return new LayerException(Reason.NoSpace, message, e);
    }
    if (message.contains("Garbage after")
        || message.contains("after a valid")
        || message.contains("Unknown frame descriptor")) {
      return new LayerException(Reason.TrailingGarbage, message, e);
    }
    if (e instanceof EOFException
        || message.contains("Truncated")
        || message.contains("truncated")
        || message.contains("premature")
        || message.contains("Unexpected end")) {
      return new LayerException(Reason.Truncated, message, e);
    }
    if (message.contains("Corrupted TAR archive")
        || message.contains("parsing the pax header")
        || message.contains("parsing the header")
        || message.contains("Unable to parse")) {
      return new LayerException(Reason.InvalidHeader, message, e);
    }
    if (message.contains("Frame requires too much memory")
        || message.contains("Window")
        || message.contains("window")) {
      return new LayerException(Reason.SizeLimit, message, e);
    }
    return new LayerException(Reason.IOError, message, e);
  }

  /**
   * What the tar reader reads from: counts the bytes it has taken, skipped ones included, and fills
   * every read unless the stream ends. Commons Compress takes a short read of a sparse region for
   * the end of that region; the buffers and the reading thread beneath return short reads at their
   * boundaries.
   */
  /** How far the blob has been read, for progress: read on the prefetch thread, seen on this. */
  private static final class Position extends FilterInputStream {
    volatile long read;

    Position(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        read++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.read(b, off, len);
      if (n > 0) {
        read += n;
      }
      return n;
    }
  }

  private static final class Counted extends FilterInputStream {
    long count;

    Counted(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.readNBytes(b, off, len);
      if (n == 0 && len > 0) {
        return -1;
      }
      count += n;
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long skipped = in.skip(n);
      count += skipped;
      return skipped;
    }

    @Override
    public boolean markSupported() {
      return false;
    }
  }

  /** The uncompressed tar bytes: counted and bounded. */
  private static final class Metered extends FilterInputStream {
    final long limit;
    long count;

    Metered(InputStream in, long limit) {
      super(in);
      this.limit = limit;
    }

    @Override
    public int read() throws IOException {
      return Streams.readOne(this);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        count += n;
        if (count > limit) {
          throw new GuardException(
              new LayerException(
                  Reason.SizeLimit, "the layer expands to more than " + limit + " bytes"));
        }
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      return Streams.skipByReading(this, n);
    }

    @Override
    public boolean markSupported() {
      return false;
    }
  }
}
