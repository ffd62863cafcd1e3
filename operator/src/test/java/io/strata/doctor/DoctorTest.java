package io.strata.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.overlay.MountTable;
import io.strata.sys.Sha256;
import io.strata.sys.Syscalls;
import io.strata.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DoctorTest {
  @TempDir Path tmp;

  @Test
  void aSharedMountBaseIsOkAndAnythingElseSaysHowToFixIt() {
    MountTable table =
        MountTable.parse(
            """
            22 1 252:1 / / rw shared:1 - ext4 /dev/vda1 rw
            36 22 0:31 / /mnt/shared rw shared:12 - tmpfs tmpfs rw
            37 22 0:32 / /mnt/private rw - tmpfs tmpfs rw
            """);
    assertThat(doctor(Path.of("/mnt/shared")).checkMountBase(table).severity())
        .isEqualTo(Finding.Severity.OK);
    Finding privateMount = doctor(Path.of("/mnt/private")).checkMountBase(table);
    assertThat(privateMount.severity()).isEqualTo(Finding.Severity.WARN);
    assertThat(privateMount.detail()).contains("not shared", "mount --make-shared /mnt/private");
    Finding noMount = doctor(Path.of("/mnt/none")).checkMountBase(table);
    assertThat(noMount.detail()).contains("not a mount point", "mount --bind /mnt/none /mnt/none");
  }

  @Test
  void onThisMachineOverlaysWorkAndTheTableSaysSo() throws Exception {
    Tools.requireRoot("a test overlay mount needs root");
    Path stateDir = Files.createDirectory(tmp.resolve("state"));
    List<Finding> findings = new Doctor(stateDir, tmp.resolve("mnt"), Syscalls.get()).run();

    assertThat(findings)
        .filteredOn(
            f ->
                List.of(
                        "overlay filesystem",
                        "overlay mount",
                        "overlay lowers",
                        "RENAME_WHITEOUT",
                        "d_type",
                        "state dir",
                        "disk volume sizes")
                    .contains(f.check()))
        .hasSize(7)
        .allSatisfy(f -> assertThat(f.severity()).as(f.toString()).isEqualTo(Finding.Severity.OK));
    assertThat(findings)
        .extracting(Finding::check)
        .contains("overlay volatile", "overlay userxattr", "trusted xattrs", "mount base");
    assertThat(findings)
        .filteredOn(f -> f.check().equals("sha256"))
        .singleElement()
        .satisfies(
            f ->
                assertThat(f.severity())
                    .as("OK exactly when Nettle hashes: %s", f)
                    .isEqualTo(Sha256.isNative() ? Finding.Severity.OK : Finding.Severity.WARN));
    assertThat(Doctor.table(findings)).contains("CHECK", "overlay mount", "OK");
    try (var left = Files.list(stateDir)) {
      assertThat(left).as("doctor cleans up its scratch directory").isEmpty();
    }
  }

  private Doctor doctor(Path mountBase) {
    return new Doctor(tmp, mountBase, Syscalls.get());
  }
}
