package io.strata.overlay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MountTableTest {
  private static final String MOUNTINFO =
      """
      22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
      36 22 0:31 / /mnt/strata rw,relatime shared:12 master:3 - tmpfs tmpfs rw,size=1024k
      40 36 0:45 / /mnt/strata/with\\040space rw,nosuid,nodev - overlay strata:abc rw,lowerdir=/l
      41 22 0:46 / /private rw - tmpfs none rw
      42 36 0:47 / /mnt/strata/with\\040space rw - tmpfs second rw
      """;

  @Test
  void parsesFieldsOptionalTagsAndEscapes() {
    MountTable table = MountTable.parse(MOUNTINFO);
    assertThat(table.mounts()).hasSize(5);
    MountInfo overlay = table.mounts().get(2);
    assertThat(overlay.mountId()).isEqualTo(40);
    assertThat(overlay.parentId()).isEqualTo(36);
    assertThat(overlay.mountPoint()).isEqualTo(Path.of("/mnt/strata/with space"));
    assertThat(overlay.optionalFields()).isEmpty();
    assertThat(overlay.fsType()).isEqualTo("overlay");
    assertThat(overlay.source()).isEqualTo("strata:abc");
    assertThat(overlay.superOptions()).isEqualTo("rw,lowerdir=/l");

    MountInfo base = table.mounts().get(1);
    assertThat(base.optionalFields()).containsExactly("shared:12", "master:3");
    assertThat(base.isShared()).isTrue();
    assertThat(table.mounts().get(3).isShared()).isFalse();
  }

  @Test
  void findsTheTopmostMountAtAndAbovePaths() {
    MountTable table = MountTable.parse(MOUNTINFO);
    assertThat(table.at(Path.of("/mnt/strata/with space")))
        .get()
        .extracting(MountInfo::source)
        .isEqualTo("second");
    assertThat(table.containing(Path.of("/mnt/strata/x/y")))
        .get()
        .extracting(MountInfo::mountId)
        .isEqualTo(36);
    assertThat(table.containing(Path.of("/etc")))
        .get()
        .extracting(MountInfo::mountId)
        .isEqualTo(22);
    assertThat(table.at(Path.of("/etc"))).isEmpty();
  }

  @Test
  void unescapesOnlyThreeDigitOctal() {
    assertThat(MountTable.unescape("a\\011b\\134c\\012")).isEqualTo("a\tb\\c\n");
    assertThat(MountTable.unescape("trailing\\04")).isEqualTo("trailing\\04");
  }

  @Test
  void rejectsLinesWithoutTheSeparator() {
    assertThatThrownBy(() -> MountTable.parse("1 2 3:4 / /x rw shared:1 ext4 /dev rw"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("malformed mountinfo line");
  }

  @Test
  void readsThisProcessesRealTable() throws Exception {
    assertThat(MountTable.read().containing(Path.of("/proc/self"))).isPresent();
  }
}
