package io.strata.tarapply;

import io.strata.tarapply.LayerException.Reason;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarUtils;

/**
 * Sits under Commons Compress's tar reader and watches the same bytes it reads, block by block. It
 * parses nothing itself: each header block goes to Commons Compress's {@link TarArchiveEntry}; the
 * guard only keeps track of where headers are and refuses what a privileged reader must not accept:
 *
 * <ul>
 *   <li>extended headers (PAX, GNU long names) over {@link Limits#maxHeaderBytes()}, before any of
 *       them is buffered;
 *   <li>global PAX headers (they would silently rename every later entry);
 *   <li>headers that stack ambiguously: two PAX headers, a PAX header and a GNU long name, a PAX
 *       size that disagrees with the ustar size, a repeated PAX key;
 *   <li>bad header checksums, and data sizes on entries that carry no data;
 *   <li>anything but zeros after the end-of-archive block.
 * </ul>
 *
 * For each real entry it queues what the PAX header said as raw bytes ({@link Header}), which the
 * applier takes in order, one per entry Commons Compress returns.
 */
final class TarGuard extends FilterInputStream {
  static final int BLOCK = 512;

  /** What the extended headers before one real entry said, values as raw bytes. */
  record Header(String name, Map<String, byte[]> pax) {}

  private enum State {
    HEADER,
    PAYLOAD,
    GNU_SPARSE_EXTENSION,
    ENDED
  }

  private final Limits limits;
  private final ArrayDeque<Header> headers = new ArrayDeque<>();
  private final byte[] block = new byte[BLOCK];
  private State state = State.HEADER;
  private int blockFill;
  private long payloadLeft;
  private long paddingLeft;
  private byte[] capture;
  private int captured;
  private char captureType;
  private Map<String, byte[]> pendingPax;
  private boolean pendingGnuLong;
  private long position;
  private boolean sawEndBlock;

  TarGuard(InputStream in, Limits limits) {
    super(in);
    this.limits = limits;
  }

  /** The PAX records of the next real entry, in archive order. */
  Header nextHeader() throws LayerException {
    Header header = headers.poll();
    if (header == null) {
      throw new LayerException(
          Reason.AmbiguousHeader, "the tar reader and the guard disagree on where entries are");
    }
    return header;
  }

  /** Whether the end-of-archive block was seen. */
  boolean sawEndOfArchive() {
    return sawEndBlock;
  }

  long position() {
    return position;
  }

  @Override
  public int read() throws IOException {
    int b = super.read();
    if (b >= 0) {
      observe(new byte[] {(byte) b}, 0, 1);
    }
    return b;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    int n = super.read(buffer, offset, length);
    if (n > 0) {
      observe(buffer, offset, n);
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    return Streams.skipByReading(this, n);
  }

  @Override
  public boolean markSupported() {
    return false; // every byte must be seen once, in order
  }

  private void observe(byte[] buffer, int offset, int length) throws GuardException {
    int at = offset;
    int end = offset + length;
    while (at < end) {
      int n = end - at;
      switch (state) {
        case HEADER, GNU_SPARSE_EXTENSION -> {
          n = Math.min(n, BLOCK - blockFill);
          System.arraycopy(buffer, at, block, blockFill, n);
          blockFill += n;
          if (blockFill == BLOCK) {
            blockFill = 0;
            if (state == State.HEADER) {
              onHeaderBlock();
            } else {
              onSparseExtension();
            }
          }
        }
        case PAYLOAD -> {
          if (payloadLeft > 0) {
            n = (int) Math.min(n, payloadLeft);
            if (capture != null) {
              System.arraycopy(buffer, at, capture, captured, n);
              captured += n;
            }
            payloadLeft -= n;
          } else {
            n = (int) Math.min(n, paddingLeft);
            paddingLeft -= n;
          }
          if (payloadLeft == 0 && paddingLeft == 0) {
            onPayloadEnd();
          }
        }
        case ENDED -> {
          for (int i = at; i < at + n; i++) {
            if (buffer[i] != 0) {
              throw refuse(Reason.TrailingGarbage, "non-zero bytes after the end of the archive");
            }
          }
        }
      }
      at += n;
      position += n;
    }
  }

  private void onHeaderBlock() throws GuardException {
    if (isZero(block)) {
      if (pendingPax != null || pendingGnuLong) {
        throw refuse(Reason.Truncated, "an extended header is followed by the end of the archive");
      }
      sawEndBlock = true;
      state = State.ENDED; // Commons Compress stops at the first zero block; so do we
      return;
    }
    if (!TarUtils.verifyCheckSum(block)) {
      throw refuse(Reason.InvalidHeader, "a tar header has a bad checksum at offset " + position);
    }
    TarArchiveEntry entry;
    try {
      entry = new TarArchiveEntry(block.clone());
    } catch (IllegalArgumentException e) {
      throw refuse(Reason.InvalidHeader, "unreadable tar header: " + e.getMessage());
    }
    char type = (char) block[156];
    long size = entry.getSize();
    if (size < 0) {
      throw refuse(Reason.InvalidHeader, "negative size in the header of " + entry.getName());
    }
    switch (type) {
      case 'g' ->
          throw refuse(Reason.AmbiguousHeader, "global PAX headers are not accepted in a layer");
      case 'x', 'X' -> startExtended(type, size, pendingPax != null || pendingGnuLong);
      case 'L', 'K' -> startExtended(type, size, pendingPax != null);
      default -> onRealEntry(entry, type, size);
    }
  }

  private void startExtended(char type, long size, boolean ambiguous) throws GuardException {
    if (ambiguous) {
      throw refuse(
          Reason.AmbiguousHeader,
          "extended headers are stacked ('" + type + "' after another): readers disagree on them");
    }
    if (size > limits.maxHeaderBytes()) {
      throw refuse(
          Reason.SizeLimit,
          "an extended header of "
              + size
              + " bytes is over the limit of "
              + limits.maxHeaderBytes());
    }
    capture = new byte[(int) size];
    captured = 0;
    captureType = type;
    startPayload(size);
  }

  private void onRealEntry(TarArchiveEntry entry, char type, long ustarSize) throws GuardException {
    Map<String, byte[]> pax = pendingPax == null ? Map.of() : pendingPax;
    pendingPax = null;
    pendingGnuLong = false;
    long size = ustarSize;
    byte[] paxSize = pax.get("size");
    if (paxSize != null) {
      long declared = parseDecimal(paxSize, "size");
      if (ustarSize != 0 && ustarSize != declared) {
        throw refuse(
            Reason.AmbiguousHeader,
            "PAX size "
                + declared
                + " disagrees with the ustar size "
                + ustarSize
                + " of "
                + entry.getName());
      }
      size = declared;
    }
    boolean carriesData = type == '0' || type == '\0' || type == '7' || type == 'S';
    if (!carriesData && size != 0) {
      throw refuse(
          Reason.InvalidHeader,
          "entry " + entry.getName() + " of type '" + type + "' declares " + size + " data bytes");
    }
    headers.add(new Header(entry.getName(), pax));
    capture = null;
    if (type == 'S' && block[482] != 0) {
      payloadLeft = size; // extension blocks come first, then the data
      state = State.GNU_SPARSE_EXTENSION;
      return;
    }
    startPayload(size);
  }

  private void onSparseExtension() throws GuardException {
    if (block[504] == 0) { // the last extension block: the data follows
      startPayload(payloadLeft);
    }
  }

  private void startPayload(long size) throws GuardException {
    payloadLeft = size;
    paddingLeft = (BLOCK - size % BLOCK) % BLOCK;
    if (size == 0) {
      onPayloadEnd();
    } else {
      state = State.PAYLOAD;
    }
  }

  private void onPayloadEnd() throws GuardException {
    state = State.HEADER;
    if (capture != null) {
      onExtendedComplete();
    }
  }

  private void onExtendedComplete() throws GuardException {
    byte[] data = capture;
    capture = null;
    if (captureType == 'L' || captureType == 'K') {
      pendingGnuLong = true;
      return;
    }
    try {
      pendingPax = PaxRecords.parse(data, captured);
    } catch (LayerException e) {
      throw new GuardException(e);
    }
  }

  private long parseDecimal(byte[] value, String key) throws GuardException {
    String text = new String(value, StandardCharsets.US_ASCII);
    try {
      long parsed = Long.parseLong(text);
      if (parsed < 0) {
        throw new NumberFormatException();
      }
      return parsed;
    } catch (NumberFormatException e) {
      throw refuse(Reason.InvalidHeader, "PAX " + key + " '" + text + "' is not a size");
    }
  }

  private static boolean isZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  private static GuardException refuse(Reason reason, String message) {
    return new GuardException(new LayerException(reason, message));
  }

  /** Carries a refusal through Commons Compress, which only propagates IOExceptions. */
  static final class GuardException extends IOException {
    final transient LayerException refusal;

    GuardException(LayerException refusal) {
      super(refusal.getMessage(), refusal);
      this.refusal = refusal;
    }
  }
}
