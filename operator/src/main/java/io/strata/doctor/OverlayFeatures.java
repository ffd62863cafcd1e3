package io.strata.doctor;

import io.strata.overlay.MountRefusedException;
import io.strata.overlay.MountSpec;
import io.strata.overlay.OverlayPlanner;
import io.strata.overlay.OverlayRequest;
import io.strata.sys.Fd;
import io.strata.sys.SyscallException;
import io.strata.sys.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Probes what this kernel's overlayfs can do, by really mounting in a scratch directory on the
 * state dir's filesystem: the plain mount Strata makes, optional features, and the whiteout rename
 * overlayfs needs from the upper's filesystem.
 */
final class OverlayFeatures {
  private final Syscalls sys;
  private final Path scratch;
  private int probes;

  OverlayFeatures(Syscalls sys, Path scratch) {
    this.sys = sys;
    this.scratch = scratch;
  }

  /**
   * The optional features the probe found, by the names NodeLayerState reports: the mount options
   * {@code volatile} and {@code userxattr}, and {@code rename-whiteout} of the upper's filesystem.
   */
  static List<String> supported(List<Finding> findings) {
    List<String> features = new ArrayList<>();
    for (Finding finding : findings) {
      if (finding.severity() != Finding.Severity.OK) {
        continue;
      }
      switch (finding.check()) {
        case "overlay volatile" -> features.add("volatile");
        case "overlay userxattr" -> features.add("userxattr");
        case "RENAME_WHITEOUT" -> features.add("rename-whiteout");
        default -> {}
      }
    }
    return features;
  }

  List<Finding> probe() throws IOException {
    return List.of(
        plainMount(),
        optional("overlay volatile", "volatile", "upper not synced; Strata uses it when asked"),
        optional("overlay userxattr", "userxattr", "user.* xattrs instead of trusted.*"),
        multipleLowers(),
        renameWhiteout());
  }

  /** The mount Strata makes: one lower, an upper, nosuid,nodev. Failure is fatal. */
  private Finding plainMount() throws IOException {
    String error = tryMount("", true);
    return error == null
        ? Finding.ok("overlay mount", "a test overlay mounted, read and wrote in " + scratch)
        : Finding.fail("overlay mount", error);
  }

  private Finding optional(String check, String option, String what) throws IOException {
    String error = tryMount("," + option, false);
    return error == null
        ? Finding.ok(check, "supported (" + what + ")")
        : Finding.warn(check, "not supported: " + error);
  }

  private Finding multipleLowers() throws IOException {
    Path dir = Files.createDirectory(scratch.resolve("lowers" + probes++));
    Path a = Files.createDirectory(dir.resolve("a"));
    Path b = Files.createDirectory(dir.resolve("b"));
    Path merged = Files.createDirectory(dir.resolve("merged"));
    try {
      MountSpec spec = OverlayPlanner.plan(OverlayRequest.readOnly("doctor", merged, a, b));
      sys.mount(spec.source(), merged.toString(), spec.fsType(), spec.flags(), spec.data());
      sys.unmount(merged);
      return Finding.ok(
          "overlay lowers", "two stacked lowers mount read-only (Strata's read-only mounts)");
    } catch (MountRefusedException | SyscallException e) {
      return Finding.fail("overlay lowers", e.getMessage());
    }
  }

  private Finding renameWhiteout() throws IOException {
    Path dir = Files.createDirectory(scratch.resolve("whiteout" + probes++));
    Files.writeString(dir.resolve("a"), "a");
    try (Fd handle = sys.openDirectoryHandle(dir)) {
      sys.renameWhiteout(handle, "a", "b");
      return sys.lstatat(handle, "a").isWhiteout()
          ? Finding.ok("RENAME_WHITEOUT", "supported on the state dir's filesystem")
          : Finding.warn("RENAME_WHITEOUT", "rename left no whiteout behind");
    } catch (SyscallException e) {
      return Finding.warn(
          "RENAME_WHITEOUT", e.getMessage() + ": overlayfs renames in the upper suffer");
    }
  }

  /** Mounts a writable overlay with {@code extraOptions}; returns null or what went wrong. */
  private String tryMount(String extraOptions, boolean writeThrough) throws IOException {
    Path dir = Files.createDirectory(scratch.resolve("mount" + probes++));
    Path lower = Files.createDirectory(dir.resolve("lower"));
    Path upper = Files.createDirectory(dir.resolve("upper"));
    Path work = Files.createDirectory(dir.resolve("work"));
    Path merged = Files.createDirectory(dir.resolve("merged"));
    Files.writeString(lower.resolve("from-lower"), "lower");
    MountSpec spec;
    try {
      spec = OverlayPlanner.plan(OverlayRequest.writable("doctor", merged, lower, upper, work));
    } catch (MountRefusedException e) {
      return "not tested: " + e.getMessage();
    }
    try {
      sys.mount(
          spec.source(),
          merged.toString(),
          spec.fsType(),
          spec.flags(),
          spec.data() + extraOptions);
    } catch (SyscallException e) {
      return e.getMessage();
    }
    try {
      if (!writeThrough) {
        return null;
      }
      Files.writeString(merged.resolve("from-merged"), "merged");
      boolean ok =
          Files.exists(merged.resolve("from-lower")) && Files.exists(upper.resolve("from-merged"));
      return ok ? null : "the test overlay did not show its lower and upper";
    } finally {
      sys.unmount(merged);
    }
  }
}
