package io.strata.tarapply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.tarapply.LayerException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** How a tar entry's name becomes a path beneath the root, or is refused: a table, no root. */
class EntryPathTest {
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "usr/bin/sh          | usr/bin/sh",
        "./usr/bin/sh        | usr/bin/sh",
        "/usr/bin/sh         | usr/bin/sh",
        "usr//bin/./sh       | usr/bin/sh",
        "usr/bin/            | usr/bin",
        "usr/lib/../bin/sh   | usr/bin/sh",
        "a/b/../../c         | c",
        "./                  | .",
        "/                   | .",
        "..foo/...           | ..foo/...",
        "usr/bin/sh\\x       | usr/bin/sh\\x",
        "名前/ファイル        | 名前/ファイル",
      })
  void aNameIsCleanedBeneathTheRoot(String raw, String cleaned) throws Exception {
    assertThat(EntryPath.parse(raw, Limits.DEFAULT).toString()).isEqualTo(cleaned);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "..                  | PathEscape",
        "../etc/passwd       | PathEscape",
        "a/../../etc         | PathEscape",
        "/../etc             | PathEscape",
      })
  void climbingOutOfTheRootIsRefused(String raw, Reason reason) {
    assertRefused(raw, reason, "climbs out of the root");
  }

  @ParameterizedTest(name = "control character {0}")
  @CsvSource({"0", "10", "13", "27", "127"})
  void aControlCharacterIsRefusedAndShownEscaped(int c) {
    String raw = "usr/bad" + (char) c + "name";
    assertRefused(raw, Reason.InvalidName, String.format("usr/bad\\x%02xname", c));
  }

  @ParameterizedTest(name = "{0} bytes")
  @CsvSource({"4097"})
  void aNameOverThePathLimitIsRefused(int bytes) {
    assertRefused("a".repeat(bytes), Reason.InvalidName, "over 4096 bytes");
  }

  @ParameterizedTest(name = "component of {0} bytes")
  @CsvSource({"256", "1000"})
  void aComponentOverWhatAFilesystemHoldsIsRefused(int bytes) {
    assertRefused("usr/" + "b".repeat(bytes), Reason.InvalidName, "over 255 bytes");
  }

  @ParameterizedTest(name = "depth {0}")
  @CsvSource({"257", "1000"})
  void nestingDeeperThanTheLimitIsRefused(int depth) {
    assertRefused("d/".repeat(depth), Reason.InvalidName, "deeper than 256");
  }

  @Test
  void aComponentOfExactly255BytesAndDepthUpToTheLimitAreKept() throws Exception {
    assertThat(EntryPath.parse("b".repeat(255), Limits.DEFAULT).components()).hasSize(1);
    assertThat(EntryPath.parse("d/".repeat(256), Limits.DEFAULT).components()).hasSize(256);
  }

  private static void assertRefused(String raw, Reason reason, String message) {
    assertThatThrownBy(() -> EntryPath.parse(raw, Limits.DEFAULT))
        .isInstanceOfSatisfying(LayerException.class, e -> assertThat(e.reason()).isEqualTo(reason))
        .hasMessageContaining(message);
  }
}
