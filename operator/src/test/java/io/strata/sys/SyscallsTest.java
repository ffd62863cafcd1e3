package io.strata.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The facade, run for real: results decoded right, failures named by call, path and errno. */
class SyscallsTest {
  @TempDir Path tmp;

  private final LinuxSyscalls sys = LinuxSyscalls.INSTANCE;

  static Stream<Arguments> resolvers() {
    return Stream.of(
        Arguments.of("openat2", LinuxSyscalls.INSTANCE),
        Arguments.of("per-component fallback", new LinuxSyscalls(false)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("resolvers")
  void openBeneathFindsRealDirectoriesAndRefusesEveryEscape(String name, LinuxSyscalls resolver)
      throws Exception {
    Path inside = Files.createDirectories(tmp.resolve("base/a/b"));
    Files.createDirectories(tmp.resolve("outside"));
    Files.createSymbolicLink(tmp.resolve("base/link"), tmp.resolve("outside"));
    Files.createSymbolicLink(tmp.resolve("base/a/rel"), Path.of("../../outside"));
    try (Fd base = resolver.open(tmp.resolve("base"), LibC.O_PATH | LibC.O_DIRECTORY, 0)) {
      try (Fd b = resolver.openBeneath(base, "a/b", LibC.O_PATH | LibC.O_DIRECTORY, 0)) {
        assertThat(resolver.fstat(b).ino()).isEqualTo(resolver.lstat(inside).ino());
      }
      for (String escape :
          new String[] {"link", "link/x", "a/rel", "../outside", "a/../../outside"}) {
        assertThatThrownBy(
                () -> resolver.openBeneath(base, escape, LibC.O_PATH | LibC.O_DIRECTORY, 0).close())
            .as(escape)
            .isInstanceOfSatisfying(
                SyscallException.class,
                e ->
                    assertThat(e.errno())
                        .isIn(
                            Errno.ELOOP.intValue(),
                            Errno.EXDEV.intValue(),
                            Errno.ENOTDIR.intValue()));
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("resolvers")
  void aCallThatFailsOnADescriptorNamesThePathItWasOpenedBy(String name, LinuxSyscalls resolver)
      throws Exception {
    Path file = Files.createDirectories(tmp.resolve("base/a")).resolve("f");
    Files.writeString(file, "x");
    try (Fd base = resolver.open(tmp.resolve("base"), LibC.O_PATH | LibC.O_DIRECTORY, 0);
        Fd a = resolver.openat(base, "a", LibC.O_PATH | LibC.O_DIRECTORY, 0);
        Fd f = resolver.openBeneath(a, "f", LibC.O_PATH, 0)) {
      // A descriptor opened O_PATH refuses fchmod (EBADF): the message says which file it was.
      assertThatThrownBy(() -> resolver.fchmod(f, 0600))
          .isInstanceOf(SyscallException.class)
          .hasMessageStartingWith("fchmod(" + file + "): EBADF");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("resolvers")
  void openBeneathWithNoXdevRefusesToCrossAMount(String name, LinuxSyscalls resolver)
      throws Exception {
    Tools.requireRoot("mounting a tmpfs needs root");
    Path mountPoint = Files.createDirectories(tmp.resolve("base/mnt"));
    sys.mount(
        "strata-test", mountPoint.toString(), "tmpfs", LibC.MS_NOSUID | LibC.MS_NODEV, "size=1m");
    try (Fd base = resolver.open(tmp.resolve("base"), LibC.O_PATH | LibC.O_DIRECTORY, 0)) {
      Files.createDirectory(mountPoint.resolve("d"));
      assertThatThrownBy(
              () ->
                  resolver
                      .openBeneath(
                          base, "mnt/d", LibC.O_PATH | LibC.O_DIRECTORY, LibC.RESOLVE_NO_XDEV)
                      .close())
          .isInstanceOfSatisfying(
              SyscallException.class, e -> assertThat(e.is(Errno.EXDEV)).isTrue());
      resolver.openBeneath(base, "mnt/d", LibC.O_PATH | LibC.O_DIRECTORY, 0).close();
    } finally {
      sys.umount2(mountPoint, 0);
    }
  }

  @Test
  void mkdiratSaysWhetherItCreatedAndFailuresNameCallPathAndErrno() throws Exception {
    try (Fd dir = sys.open(tmp, LibC.O_PATH | LibC.O_DIRECTORY, 0)) {
      assertThat(sys.mkdirat(dir, "d", 0750)).isTrue();
      assertThat(sys.mkdirat(dir, "d", 0750)).isFalse();
      assertThat(sys.lstatat(dir, "d").mode() & 07777).isEqualTo(0750 & ~umask());
      assertThatThrownBy(() -> sys.lstatat(dir, "missing"))
          .isInstanceOf(SyscallException.class)
          .hasMessage("fstatat(" + tmp + "/missing): ENOENT (No such file or directory)");
    }
  }

  @Test
  void renameWithNoReplaceRefusesToOverwrite() throws Exception {
    Files.writeString(tmp.resolve("a"), "a");
    Files.writeString(tmp.resolve("b"), "b");
    try (Fd dir = sys.open(tmp, LibC.O_PATH | LibC.O_DIRECTORY, 0)) {
      assertThatThrownBy(() -> sys.renameat2(dir, "a", dir, "b", LibC.RENAME_NOREPLACE))
          .hasMessageStartingWith("renameat2(" + tmp + "/a -> " + tmp + "/b): EEXIST");
      sys.renameat2(dir, "a", dir, "c", LibC.RENAME_NOREPLACE);
    }
    assertThat(Files.readString(tmp.resolve("c"))).isEqualTo("a");
    assertThat(tmp.resolve("a")).doesNotExist();
  }

  @Test
  void timesAndOwnersAreSetOnTheLinkItself() throws Exception {
    Files.createSymbolicLink(tmp.resolve("link"), Path.of("/etc/hostname"));
    try (Fd dir = sys.open(tmp, LibC.O_PATH | LibC.O_DIRECTORY, 0)) {
      sys.lutimensat(dir, "link", 1_000_000_000_123L, 2_000_000_000_456L);
      FileStat link = sys.lstatat(dir, "link");
      assertThat(link.isSymlink()).isTrue();
      assertThat(link.mtimeSeconds()).isEqualTo(2000);
      assertThat(link.mtimeNanos()).isEqualTo(456);
      if (isRoot()) {
        sys.lchownat(dir, "link", 1234, 5678);
        assertThat(sys.lstatat(dir, "link").uid()).isEqualTo(1234);
        assertThat(sys.lstat(Path.of("/etc/hostname")).uid()).isZero();
      }
    }
  }

  @Test
  void aWhiteoutIsACharacterDeviceZeroZero() throws Exception {
    Tools.requireRoot("mknod of a device needs root");
    try (Fd dir = sys.open(tmp, LibC.O_PATH | LibC.O_DIRECTORY, 0)) {
      sys.mknodat(dir, "wh", FileStat.S_IFCHR | 0, 0);
      assertThat(sys.lstatat(dir, "wh").isWhiteout()).isTrue();
      Files.writeString(tmp.resolve("f"), "x");
      assertThat(sys.lstatat(dir, "f").isWhiteout()).isFalse();
      assertThat(sys.lstatat(dir, "f").size()).isEqualTo(1);
    }
  }

  @Test
  void statfsAndSyncReportTheFilesystem() throws Exception {
    FsStat fs = sys.statfs(tmp);
    assertThat(fs.blocks()).isPositive();
    assertThat(fs.availableBytes()).isPositive().isLessThanOrEqualTo(fs.totalBytes());
    Files.writeString(tmp.resolve("f"), "data");
    try (Fd f = sys.open(tmp.resolve("f"), LibC.O_RDONLY, 0)) {
      sys.fsync(f);
      sys.syncfs(f);
    }
  }

  @Test
  void trustedXattrsRoundTrip() throws Exception {
    Tools.requireRoot("trusted.* xattrs need root");
    Path f = Files.writeString(tmp.resolve("f"), "x");
    sys.lsetxattr(f, "trusted.strata.test", new byte[] {1, 2, 3});
    assertThat(sys.lgetxattr(f, "trusted.strata.test", 64)).containsExactly(1, 2, 3);
  }

  static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static int umask() throws Exception {
    String status = Files.readString(Path.of("/proc/self/status"));
    return status
        .lines()
        .filter(l -> l.startsWith("Umask:"))
        .map(l -> Integer.parseInt(l.substring(6).trim(), 8))
        .findFirst()
        .orElse(022);
  }
}
