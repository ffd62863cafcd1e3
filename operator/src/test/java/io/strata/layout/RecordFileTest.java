package io.strata.layout;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordFileTest {
  @TempDir Path dir;

  @Test
  void aRecordIsReplacedByRenameAndNotRewrittenWhenUnchanged() throws Exception {
    Path record = dir.resolve("mount");
    assertThat(RecordFile.read(record)).isNull();

    RecordFile.replace(record, "web\nRetain\n");
    assertThat(RecordFile.read(record)).isEqualTo("web\nRetain\n");
    Object first = Files.getAttribute(record, "unix:ino");

    // The agent records every mount on every pass: the same content must not reopen the window
    // in which the file could be caught half written.
    RecordFile.replace(record, "web\nRetain\n");
    assertThat(Files.getAttribute(record, "unix:ino")).isEqualTo(first);

    // New content arrives as a new file renamed over the old one, never by truncating it.
    RecordFile.replace(record, "web\nDelete\n");
    assertThat(RecordFile.read(record)).isEqualTo("web\nDelete\n");
    assertThat(Files.getAttribute(record, "unix:ino")).isNotEqualTo(first);
    assertThat(dir.resolve("mount.new")).doesNotExist();
  }

  @Test
  void aLeftoverFromAKillBeforeTheRenameChangesNothing() throws Exception {
    Path record = dir.resolve("lower");
    RecordFile.replace(record, "/var/lib/strata/layers/a/root\n");
    Files.writeString(dir.resolve("lower.new"), "/var/lib/strata/layers/b"); // killed mid-write

    assertThat(RecordFile.read(record)).isEqualTo("/var/lib/strata/layers/a/root\n");
    RecordFile.replace(record, "/var/lib/strata/layers/c/root\n");
    assertThat(RecordFile.read(record)).isEqualTo("/var/lib/strata/layers/c/root\n");
  }

  @Test
  void aSymlinkIsNotARecord() throws Exception {
    Path elsewhere = Files.writeString(dir.resolve("elsewhere"), "not a record\n");
    Path record = Files.createSymbolicLink(dir.resolve("mount"), elsewhere);
    assertThat(RecordFile.read(record)).isNull();
    RecordFile.replace(record, "web\nDelete\n");
    assertThat(Files.isSymbolicLink(record)).isFalse();
    assertThat(elsewhere).hasContent("not a record");
  }
}
