package io.strata.tarapply;

import io.strata.tarapply.LayerException.Reason;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarUtils;

/**
 * Sits under Commons Compress's tar reader and watches the same bytes it reads, block by block. It
 * parses little itself: each header's type byte and, with Commons Compress's {@link TarUtils}, its
 * size field, to keep track of where headers are, and the region count that opens a PAX 1.0 sparse
 * map. It refuses what a privileged reader must not accept:
 *
 * <ul>
 *   <li>extended headers (PAX, GNU long names) over {@link Limits#maxHeaderBytes()}, before any of
 *       them is buffered;
 *   <li>global PAX headers (they would silently rename every later entry);
 *   <li>headers that stack ambiguously: two PAX headers, a PAX header and a GNU long name, a PAX
 *       size that disagrees with the ustar size, a repeated PAX key;
 *   <li>sparse maps over {@link Limits#maxSparseRegions()} regions, before Commons Compress builds
 *       them (an object or two per region);
 *   <li>bad header checksums, and data sizes on entries that carry no data;
 *   <li>anything but zeros after the end-of-archive block.
 * </ul>
 *
 * For each real entry it queues what the PAX header said as raw bytes ({@link Header}) and where
 * the entry's data starts, which the applier takes in order, one per entry Commons Compress
 * returns, checking that both readers put that entry at the same offset.
 */
final class TarGuard extends FilterInputStream {
  static final int BLOCK = 512;
  private static final int NAME_LENGTH = 100;
  private static final int SIZE_OFFSET = 124;
  private static final int SIZE_LENGTH = 12;
  private static final int TYPE_OFFSET = 156;

  /**
   * One real entry as the guard saw it: the offset just after its header blocks, its data size, and
   * what the extended headers before it said, values as raw bytes.
   */
  record Header(long dataStart, long size, Map<String, byte[]> pax) {
    /**
     * Whether a reader that returned this entry with its data starting at {@code offset} agrees on
     * where it is. Commons Compress reads a PAX 1.0 sparse map out of the entry's data before it
     * returns the entry, so a sparse entry may start up to its size later.
     */
    boolean startsAt(long offset, boolean sparse) {
      return offset == dataStart || sparse && offset > dataStart && offset <= dataStart + size;
    }
  }

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
  private long blockEnd;
  private Map<String, byte[]> sparsePax;
  private String sparseName;
  private long sparseExtensionBlocks;
  private boolean countingSparseMap;
  private long sparseMapCount;
  private int sparseMapDigits;
  private boolean sawEndBlock;

  TarGuard(InputStream in, Limits limits) {
    super(in);
    this.limits = limits;
  }

  /**
   * The next real entry, in archive order, which the tar reader returned with its data starting at
   * {@code readerOffset}.
   */
  Header nextHeader(long readerOffset, boolean sparse) throws LayerException {
    Header header = headers.poll();
    if (header == null || !header.startsAt(readerOffset, sparse)) {
      throw new LayerException(
          Reason.AmbiguousHeader,
          "the tar reader and the guard disagree on where entries are (offset "
              + readerOffset
              + ")");
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
            blockEnd = position + n;
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
            if (countingSparseMap) {
              readSparseMapCount(buffer, at, n);
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

  /**
   * Whether a header's checksum field matches its bytes; a field that is not even a number (which
   * Commons Compress reports with an unchecked exception) does not.
   */
  private static boolean checksumMatches(byte[] header) {
    try {
      return TarUtils.verifyCheckSum(header);
    } catch (IllegalArgumentException e) {
      return false;
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
    if (!checksumMatches(block)) {
      throw refuse(Reason.InvalidHeader, "a tar header has a bad checksum at offset " + position);
    }
    char type = (char) block[TYPE_OFFSET];
    long size;
    try {
      size = TarUtils.parseOctalOrBinary(block, SIZE_OFFSET, SIZE_LENGTH);
    } catch (IllegalArgumentException e) {
      throw refuse(
          Reason.InvalidHeader,
          "unreadable size in the header of " + name() + ": " + e.getMessage());
    }
    if (size < 0) {
      throw refuse(Reason.InvalidHeader, "negative size in the header of " + name());
    }
    switch (type) {
      case 'g' ->
          throw refuse(Reason.AmbiguousHeader, "global PAX headers are not accepted in a layer");
      case 'x', 'X' -> startExtended(type, size, pendingPax != null || pendingGnuLong);
      case 'L', 'K' -> startExtended(type, size, pendingPax != null);
      default -> onRealEntry(type, size);
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

  /** The header block's own name field, for messages (a PAX path may override it). */
  private String name() {
    try {
      return "'" + TarUtils.parseName(block, 0, NAME_LENGTH) + "'";
    } catch (IllegalArgumentException e) {
      return "an entry at offset " + position;
    }
  }

  private void onRealEntry(char type, long ustarSize) throws GuardException {
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
                + name());
      }
      size = declared;
    }
    boolean carriesData = type == '0' || type == '\0' || type == '7' || type == 'S';
    if (!carriesData && size != 0) {
      throw refuse(
          Reason.InvalidHeader,
          "entry " + name() + " of type '" + type + "' declares " + size + " data bytes");
    }
    capture = null;
    if (type == 'S' && block[482] != 0) {
      payloadLeft = size; // extension blocks come first, then the data
      sparsePax = pax;
      sparseName = name();
      sparseExtensionBlocks = 0;
      state = State.GNU_SPARSE_EXTENSION;
      return;
    }
    headers.add(new Header(blockEnd, size, pax));
    // Commons Compress reads a PAX 1.0 sparse map (which it recognises by this key) out of the
    // entry's data, its first line the number of regions.
    if (pax.containsKey("GNU.sparse.realsize") && size > 0) {
      countingSparseMap = true;
      sparseMapCount = 0;
      sparseMapDigits = 0;
      sparseName = name();
    }
    startPayload(size);
  }

  /** The first line of a PAX 1.0 sparse entry's data: how many regions its map lists. */
  private void readSparseMapCount(byte[] buffer, int from, int length) throws GuardException {
    for (int i = from; i < from + length && countingSparseMap; i++) {
      byte b = buffer[i];
      if (b == '\n' && sparseMapDigits > 0) {
        countingSparseMap = false;
        checkSparseRegions(sparseMapCount);
      } else if (b < '0' || b > '9' || ++sparseMapDigits > 18) {
        throw refuse(
            Reason.InvalidHeader,
            "the sparse map of " + sparseName + " does not start with its number of regions");
      } else {
        sparseMapCount = sparseMapCount * 10 + (b - '0');
      }
    }
  }

  private void checkSparseRegions(long regions) throws GuardException {
    if (regions > limits.maxSparseRegions()) {
      throw refuse(
          Reason.SizeLimit,
          "sparse file "
              + sparseName
              + " lists more than "
              + limits.maxSparseRegions()
              + " regions");
    }
  }

  private void onSparseExtension() throws GuardException {
    // Four regions fit in the header, 21 in each extension block.
    checkSparseRegions(4 + 21 * ++sparseExtensionBlocks);
    if (block[504] == 0) { // the last extension block: the data follows
      headers.add(new Header(blockEnd, payloadLeft, sparsePax));
      sparsePax = null;
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
    if (countingSparseMap) {
      throw refuse(
          Reason.InvalidHeader, "the data of sparse file " + sparseName + " ends inside its map");
    }
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
