package io.strata.tarapply;

import io.strata.tarapply.LayerException.Reason;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The records of one PAX extended header ({@code "<len> <key>=<value>\n"}), with values kept as raw
 * bytes. Commons Compress reads every PAX value as UTF-8 text, which corrupts binary xattrs such as
 * {@code security.capability}, and merges duplicate keys silently; {@link TarGuard} reads the same
 * bytes here to keep xattr values exact and to refuse headers two readers could disagree on.
 */
final class PaxRecords {
  /**
   * GNU's PAX sparse format 0.0 writes its map as one offset and one size record per data block, in
   * order, and Commons Compress reads them as that list: repeating these two keys is the format,
   * not an ambiguity. The value kept here is the last one, which nothing reads.
   */
  private static final Set<String> SPARSE_MAP_0_0 =
      Set.of("GNU.sparse.offset", "GNU.sparse.numbytes");

  private PaxRecords() {}

  static Map<String, byte[]> parse(byte[] data, int length) throws LayerException {
    Map<String, byte[]> records = new LinkedHashMap<>();
    int at = 0;
    while (at < length) {
      if (data[at] == 0) {
        break; // NUL padding after the last record
      }
      int space = indexOf(data, (byte) ' ', at, length);
      if (space < 0) {
        throw malformed("no length");
      }
      int recordLength = parseLength(data, at, space);
      int end = at + recordLength;
      if (recordLength <= 0 || end > length || data[end - 1] != '\n') {
        throw malformed("a record overruns the header");
      }
      int equals = indexOf(data, (byte) '=', space + 1, end);
      if (equals < 0) {
        throw malformed("a record has no '='");
      }
      String key = new String(data, space + 1, equals - space - 1, StandardCharsets.UTF_8);
      byte[] value = Arrays.copyOfRange(data, equals + 1, end - 1);
      if (records.put(key, value) != null && !SPARSE_MAP_0_0.contains(key)) {
        throw new LayerException(
            Reason.AmbiguousHeader, "PAX header repeats the key '" + key + "'");
      }
      at = end;
    }
    return records;
  }

  private static int parseLength(byte[] data, int from, int to) throws LayerException {
    if (to - from > 9 || to == from) {
      throw malformed("a record length is not a small decimal number");
    }
    int value = 0;
    for (int i = from; i < to; i++) {
      if (data[i] < '0' || data[i] > '9') {
        throw malformed("a record length is not decimal");
      }
      value = value * 10 + (data[i] - '0');
    }
    return value;
  }

  private static int indexOf(byte[] data, byte b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (data[i] == b) {
        return i;
      }
    }
    return -1;
  }

  private static LayerException malformed(String what) {
    return new LayerException(Reason.InvalidHeader, "malformed PAX header: " + what);
  }
}
