package io.strata.doctor;

import io.strata.layout.Trees;
import io.strata.overlay.DiskImage;
import io.strata.overlay.MountBase;
import io.strata.overlay.MountTable;
import io.strata.sys.LoopDevice;
import io.strata.sys.MountOption;
import io.strata.sys.Sha256;
import io.strata.sys.SyscallException;
import io.strata.sys.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;

/**
 * Checks whether this node can run Strata: overlayfs present and really mountable, d_type and
 * trusted xattrs on the state dir's filesystem, a shared mount base. Each check is one finding.
 */
public final class Doctor {
  private static final Path FILESYSTEMS = Path.of("/proc/filesystems");
  private static final int DT_UNKNOWN = 0;

  private final Path stateDir;
  private final Path mountBase;
  private final Syscalls sys;

  public Doctor(Path stateDir, Path mountBase, Syscalls sys) {
    this.stateDir = stateDir.toAbsolutePath().normalize();
    this.mountBase = mountBase.toAbsolutePath().normalize();
    this.sys = sys;
  }

  /**
   * The optional overlayfs features of this node, probed by test mounts in a scratch directory
   * beneath {@code stateDir} that is removed again: what the agent reports in its NodeLayerState.
   */
  public static List<String> overlayFeatures(Path stateDir, Syscalls sys) throws IOException {
    Files.createDirectories(stateDir);
    Path scratch = Files.createTempDirectory(stateDir, ".strata-doctor-");
    try {
      return OverlayFeatures.supported(new OverlayFeatures(sys, scratch).probe());
    } finally {
      Trees.delete(scratch);
    }
  }

  public List<Finding> run() throws IOException {
    List<Finding> findings = new ArrayList<>();
    findings.add(Finding.ok("kernel", System.getProperty("os.version")));
    boolean overlay = Files.readString(FILESYSTEMS).lines().anyMatch(l -> l.endsWith("\toverlay"));
    findings.add(
        overlay
            ? Finding.ok("overlay filesystem", "listed in /proc/filesystems")
            : Finding.fail(
                "overlay filesystem", "not in /proc/filesystems: load it with 'modprobe overlay'"));

    Path scratchParent = stateDir;
    if (Files.isDirectory(stateDir)) {
      findings.add(Finding.ok("state dir", stateDir.toString()));
    } else {
      findings.add(
          Finding.warn(
              "state dir",
              stateDir
                  + " does not exist: the agent creates it; testing on "
                  + tempDir()
                  + " instead"));
      scratchParent = tempDir();
    }
    Path scratch = Files.createTempDirectory(scratchParent, ".strata-doctor-");
    try {
      findings.add(checkDType(scratch));
      findings.add(checkTrustedXattrs(scratch));
      if (overlay) {
        findings.addAll(new OverlayFeatures(sys, scratch).probe());
      }
      findings.add(checkDiskVolumeSizes(scratch));
    } finally {
      Trees.delete(scratch);
    }
    findings.add(checkMountBase(MountTable.read()));
    findings.add(
        Sha256.isNative()
            ? Finding.ok("sha256", Sha256.implementation())
            : Finding.warn(
                "sha256",
                Sha256.implementation()
                    + ": layers hash several times slower under the agent's C1-only JVM flags"));
    return findings;
  }

  private Finding checkDType(Path scratch) throws IOException {
    Files.createFile(scratch.resolve("probe"));
    Map<String, Integer> types = sys.directoryEntryTypes(scratch);
    return types.getOrDefault("probe", DT_UNKNOWN) == DT_UNKNOWN
        ? Finding.fail(
            "d_type",
            "the filesystem of "
                + scratch.getParent()
                + " does not report file types"
                + " (xfs needs ftype=1): overlayfs cannot use it")
        : Finding.ok("d_type", "supported on the filesystem of " + scratch.getParent());
  }

  /**
   * How a Disk pod volume's size is enforced here: an ext4 in a sparse file on a loop device
   * (mke2fs, a free loop device and the ext4 module), mounted and unmounted once.
   */
  private Finding checkDiskVolumeSizes(Path scratch) {
    String check = "disk volume sizes";
    Path image = scratch.resolve("disk.img");
    Path fs = scratch.resolve("fs");
    try {
      Files.createDirectory(fs);
      DiskImage.create(image, 16L << 20);
      try (LoopDevice loop = sys.attachLoopDevice(image)) {
        sys.mount(
            loop.path().toString(),
            fs.toString(),
            "ext4",
            EnumSet.of(MountOption.NO_SUID, MountOption.NO_DEV),
            null);
      }
      sys.unmount(fs);
      return Finding.ok(
          check, "held by the kernel: an ext4 in a sparse file on a loop device per volume");
    } catch (IOException e) {
      return Finding.warn(
          check,
          "cannot mount a file system image ("
              + e.getMessage()
              + "): Disk pod volumes cannot be published here; Memory ones can");
    }
  }

  private Finding checkTrustedXattrs(Path scratch) throws IOException {
    Path probe = scratch.resolve("probe");
    String name = "trusted.strata.doctor";
    try {
      sys.lsetxattr(probe, name, "y".getBytes(StandardCharsets.UTF_8));
      sys.lgetxattr(probe, name, 16);
      return Finding.ok("trusted xattrs", "settable on the filesystem of " + scratch.getParent());
    } catch (SyscallException e) {
      return Finding.warn(
          "trusted xattrs",
          e.getMessage() + ": overlayfs needs them for whiteouts in a Disk upper (run as root)");
    }
  }

  Finding checkMountBase(MountTable table) {
    return MountBase.problem(table, mountBase)
        .map(problem -> Finding.warn("mount base", problem))
        .orElseGet(() -> Finding.ok("mount base", mountBase + " is a shared mount"));
  }

  private static Path tempDir() {
    return Path.of(System.getProperty("java.io.tmpdir"));
  }

  /** Renders findings as an aligned table. */
  public static String table(List<Finding> findings) {
    int width = findings.stream().mapToInt(f -> f.check().length()).max().orElse(5);
    StringBuilder out = new StringBuilder();
    out.append(String.format("%-" + width + "s  %-6s %s%n", "CHECK", "RESULT", "DETAIL"));
    for (Finding f : findings) {
      out.append(String.format("%-" + width + "s  %-6s %s%n", f.check(), f.severity(), f.detail()));
    }
    return out.toString();
  }
}
