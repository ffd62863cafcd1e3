package io.strata.tarapply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.tarapply.LayerException.Reason;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** PAX extended headers as bytes: records, raw values, and every malformed or ambiguous one. */
class PaxRecordsTest {
  @Test
  void recordsKeepTheirOrderAndValuesTheirExactBytes() throws Exception {
    byte[] capability = {1, 0, 0, 2, (byte) 0xff, 0, '\n', '=', 0};
    byte[] header =
        concat(
            record("path", "usr/bin/ping".getBytes(StandardCharsets.UTF_8)),
            record("SCHILY.xattr.security.capability", capability),
            record("mtime", "1700000000.5".getBytes(StandardCharsets.UTF_8)));

    Map<String, byte[]> records = PaxRecords.parse(header, header.length);

    assertThat(records.keySet())
        .containsExactly("path", "SCHILY.xattr.security.capability", "mtime");
    assertThat(records.get("SCHILY.xattr.security.capability")).isEqualTo(capability);
    assertThat(new String(records.get("mtime"), StandardCharsets.UTF_8)).isEqualTo("1700000000.5");
  }

  @Test
  void nulPaddingAfterTheLastRecordEndsTheHeader() throws Exception {
    byte[] one = record("path", "a".getBytes(StandardCharsets.UTF_8));
    byte[] padded = new byte[512];
    System.arraycopy(one, 0, padded, 0, one.length);
    assertThat(PaxRecords.parse(padded, padded.length)).containsOnlyKeys("path");
  }

  @Test
  void aRepeatedKeyIsAmbiguousExceptTheSparseMapOfFormat00() throws Exception {
    byte[] twice =
        concat(
            record("path", "a".getBytes(StandardCharsets.UTF_8)),
            record("path", "b".getBytes(StandardCharsets.UTF_8)));
    assertThatThrownBy(() -> PaxRecords.parse(twice, twice.length))
        .isInstanceOfSatisfying(
            LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.AmbiguousHeader))
        .hasMessageContaining("repeats the key 'path'");

    byte[] sparse =
        concat(
            record("GNU.sparse.offset", "0".getBytes(StandardCharsets.UTF_8)),
            record("GNU.sparse.numbytes", "512".getBytes(StandardCharsets.UTF_8)),
            record("GNU.sparse.offset", "4096".getBytes(StandardCharsets.UTF_8)),
            record("GNU.sparse.numbytes", "512".getBytes(StandardCharsets.UTF_8)));
    assertThat(PaxRecords.parse(sparse, sparse.length))
        .containsOnlyKeys("GNU.sparse.offset", "GNU.sparse.numbytes");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "no space after the length   | 12path=abc\\n     | no length",
        "a length that is not digits | 1x path=a\\n      | not decimal",
        "a length of ten digits      | 0000000012 p=a\\n | not a small decimal",
        "an empty length             | ' path=a\\n'       | not a small decimal",
        "a record past the end       | 99 path=a\\n      | overruns the header",
        "a record without newline    | 10 path=abc      | overruns the header",
        "a record without '='        | 11 pathabc\\n     | has no '='",
        "a zero length               | 0 path=a\\n       | overruns the header",
      })
  void aMalformedRecordIsAnInvalidHeader(String what, String text, String message) {
    byte[] bytes = text.replace("\\n", "\n").getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> PaxRecords.parse(bytes, bytes.length))
        .as(what)
        .isInstanceOfSatisfying(
            LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.InvalidHeader))
        .hasMessageContaining(message);
  }

  @Test
  void onlyTheGivenLengthIsRead() throws Exception {
    byte[] one = record("path", "a".getBytes(StandardCharsets.UTF_8));
    byte[] withGarbage = concat(one, "garbage that is no record".getBytes(StandardCharsets.UTF_8));
    assertThat(PaxRecords.parse(withGarbage, one.length)).containsOnlyKeys("path");
  }

  /** One record as POSIX writes it: its own length counts the digits of that length too. */
  private static byte[] record(String key, byte[] value) {
    int rest = 1 + key.length() + 1 + value.length + 1; // " key=value\n"
    int length = rest + String.valueOf(rest).length();
    if (String.valueOf(length).length() != String.valueOf(rest).length()) {
      length++;
    }
    return concat(
        (length + " " + key + "=").getBytes(StandardCharsets.UTF_8), value, new byte[] {'\n'});
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
