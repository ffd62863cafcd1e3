package io.strata.tarapply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.sys.FileStat;
import io.strata.tarapply.EntryAction.MakeDirectory;
import io.strata.tarapply.EntryAction.MakeHardlink;
import io.strata.tarapply.EntryAction.MakeNode;
import io.strata.tarapply.EntryAction.MakeSymlink;
import io.strata.tarapply.EntryAction.Opaque;
import io.strata.tarapply.EntryAction.Whiteout;
import io.strata.tarapply.EntryAction.WriteFile;
import io.strata.tarapply.LayerException.Reason;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each rule that turns a tar entry into an action, or refuses it, as a row: entries are built in
 * memory (no archive, no filesystem, no root). The whole-archive behaviour is HostileLayersTest's.
 */
class EntryPlannerTest {
  private final EntryPlanner planner = new EntryPlanner(Limits.DEFAULT);

  @Test
  void eachTypeBecomesItsAction() throws Exception {
    assertThat(plan(entry("etc/", TarConstants.LF_DIR))).isInstanceOf(MakeDirectory.class);
    assertThat(plan(file("etc/hosts", 12)))
        .isInstanceOfSatisfying(WriteFile.class, w -> assertThat(w.size()).isEqualTo(12));
    TarArchiveEntry link = entry("bin/sh", TarConstants.LF_SYMLINK);
    link.setLinkName("busybox");
    assertThat(plan(link))
        .isInstanceOfSatisfying(
            MakeSymlink.class, s -> assertThat(s.target()).isEqualTo("busybox"));
    TarArchiveEntry hard = entry("bin/ls", TarConstants.LF_LINK);
    hard.setLinkName("./bin/busybox");
    assertThat(plan(hard))
        .isInstanceOfSatisfying(
            MakeHardlink.class, h -> assertThat(h.target().toString()).isEqualTo("bin/busybox"));
    assertThat(plan(entry("run/fifo", TarConstants.LF_FIFO)))
        .isInstanceOfSatisfying(
            MakeNode.class, n -> assertThat(n.type()).isEqualTo(FileStat.S_IFIFO));
    assertThat(plan(device("dev/null", TarConstants.LF_CHR, 1, 3)))
        .isInstanceOfSatisfying(
            MakeNode.class,
            n -> {
              assertThat(n.type()).isEqualTo(FileStat.S_IFCHR);
              assertThat(n.major()).isEqualTo(1);
              assertThat(n.minor()).isEqualTo(3);
              assertThat(n.meta().mode()).isEqualTo(0644);
            });
  }

  @Test
  void whiteoutsAndOpaqueMarkersNameWhatTheyHide() throws Exception {
    assertThat(plan(file("usr/.wh.old", 0)))
        .isEqualTo(new Whiteout(EntryPath.parse("usr/old", Limits.DEFAULT)));
    assertThat(plan(file("usr/.wh..wh..opq", 0)))
        .isEqualTo(new Opaque(EntryPath.parse("usr", Limits.DEFAULT)));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "usr/.wh.           | malformed whiteout",
        "usr/.wh...         | malformed whiteout",
        "usr/.wh..wh.x      | malformed whiteout",
        "usr/.wh.x/file     | whiteout name as a directory",
      })
  void malformedWhiteoutsAreRefused(String name, String message) {
    assertRefused(file(name, 0), Reason.InvalidWhiteout, message);
  }

  @Test
  void aWhiteoutWithContentOrOfAnotherTypeIsRefused() {
    assertRefused(file("usr/.wh.old", 1), Reason.InvalidWhiteout, "not an empty regular file");
    assertRefused(
        entry("usr/.wh.old", TarConstants.LF_SYMLINK),
        Reason.InvalidWhiteout,
        "not an empty regular file");
  }

  @Test
  void onlyADirectoryMayBeTheRoot() throws Exception {
    assertThat(plan(entry("./", TarConstants.LF_DIR))).isInstanceOf(MakeDirectory.class);
    assertRefused(file("./", 0), Reason.PathEscape, "replace the root");
  }

  @Test
  void aRegularFileNamedLikeADirectoryIsAmbiguous() {
    assertRefused(entry("etc/", TarConstants.LF_NORMAL), Reason.AmbiguousHeader, "named like");
  }

  @Test
  void aPaxPathTheReaderDidNotUseIsAmbiguous() {
    assertRefused(
        file("etc/hosts", 0),
        Map.of("path", "etc/shadow".getBytes(StandardCharsets.UTF_8)),
        Reason.AmbiguousHeader,
        "not the PAX path");
  }

  @ParameterizedTest(name = "{0} {1}:{2}")
  @CsvSource(
      delimiter = '|',
      value = {
        "4 | 4096 | 0       | InvalidDevice | Linux device numbers reach 4095:1048575",
        "3 | 0    | 1048576 | InvalidDevice | Linux device numbers reach",
        "3 | 0    | 0       | InvalidDevice | is an overlay whiteout",
      })
  void devicesTheKernelCannotMakeAreRefused(
      char type, int major, int minor, Reason reason, String message) {
    assertRefused(device("dev/x", (byte) type, major, minor), reason, message);
  }

  @Test
  void ownersOutOfRangeAreRefusedAndTimesClampedTo2038() throws Exception {
    TarArchiveEntry owner = file("a", 0);
    owner.setUserId(0xFFFF_FFFFL);
    assertRefused(owner, Reason.InvalidHeader, "out of range");

    TarArchiveEntry late = file("b", 0);
    late.setLastModifiedTime(FileTime.from(Instant.parse("2200-01-01T00:00:00.5Z")));
    assertThat(((WriteFile) plan(late)).meta().mtimeNanos())
        .isEqualTo(EntryPlanner.MAX_SECONDS * 1_000_000_000L);
    TarArchiveEntry early = file("c", 0);
    early.setLastModifiedTime(FileTime.from(Instant.parse("1960-01-01T00:00:00Z")));
    assertThat(((WriteFile) plan(early)).meta().mtimeNanos()).isZero();
  }

  @Test
  void userAndCapabilityXattrsAreKeptOthersDroppedTrustedRefused() throws Exception {
    byte[] capability = new byte[20];
    capability[3] = 2; // revision 2, little-endian
    Map<String, byte[]> pax =
        Map.of(
            "SCHILY.xattr.user.origin",
            "layer".getBytes(StandardCharsets.UTF_8),
            "SCHILY.xattr.security.capability",
            capability,
            "LIBARCHIVE.xattr.user.b%20c",
            Base64.getEncoder().encode("v".getBytes(StandardCharsets.UTF_8)),
            "SCHILY.xattr.system.posix_acl_access",
            new byte[] {2, 0, 0, 0});

    Map<String, byte[]> kept = ((WriteFile) planner.plan(file("f", 0), pax)).meta().xattrs();

    assertThat(kept).containsOnlyKeys("user.origin", "security.capability", "user.b c");
    assertThat(kept.get("security.capability")).isEqualTo(capability);
    assertRefused(
        file("f", 0),
        Map.of("SCHILY.xattr.trusted.overlay.opaque", new byte[] {'y'}),
        Reason.ForbiddenXattr,
        "trusted.overlay.opaque");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "SCHILY.xattr.user.               | x       | InvalidHeader | the kernel refuses",
        "LIBARCHIVE.xattr.user.a          | !!!     | InvalidHeader | not base64",
        "SCHILY.xattr.security.capability | short   | InvalidHeader | capability set",
      })
  void xattrsTheKernelWouldRefuseAreRefused(
      String key, String value, Reason reason, String message) {
    assertRefused(
        file("f", 0), Map.of(key, value.getBytes(StandardCharsets.UTF_8)), reason, message);
  }

  private EntryAction plan(TarArchiveEntry entry) throws LayerException {
    return planner.plan(entry, Map.of());
  }

  private void assertRefused(TarArchiveEntry entry, Reason reason, String message) {
    assertRefused(entry, Map.of(), reason, message);
  }

  private void assertRefused(
      TarArchiveEntry entry, Map<String, byte[]> pax, Reason reason, String message) {
    assertThatThrownBy(() -> planner.plan(entry, pax))
        .isInstanceOfSatisfying(LayerException.class, e -> assertThat(e.reason()).isEqualTo(reason))
        .hasMessageContaining(message);
  }

  private static TarArchiveEntry entry(String name, byte type) {
    TarArchiveEntry entry = new TarArchiveEntry(name, type, true);
    entry.setMode(0644);
    entry.setLastModifiedTime(FileTime.from(Instant.parse("2024-01-01T00:00:00Z")));
    return entry;
  }

  private static TarArchiveEntry file(String name, long size) {
    TarArchiveEntry entry = entry(name, TarConstants.LF_NORMAL);
    entry.setSize(size);
    return entry;
  }

  private static TarArchiveEntry device(String name, byte type, int major, int minor) {
    TarArchiveEntry entry = entry(name, type);
    entry.setDevMajor(major);
    entry.setDevMinor(minor);
    return entry;
  }
}
