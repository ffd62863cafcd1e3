package io.strata.overlay;

import io.strata.layout.NodeLayout;
import io.strata.overlay.MountRefusedException.Reason;
import io.strata.overlay.MountStep.CreateDirectories;
import io.strata.overlay.MountStep.CreatePrivateDirectory;
import io.strata.overlay.MountStep.MountOverlay;
import io.strata.overlay.MountStep.MountTmpfs;
import io.strata.overlay.MountStep.RecordLower;
import io.strata.overlay.MountStep.RequireEmptyDirectory;
import io.strata.overlay.MountStep.RequireLowerDirectory;
import io.strata.sys.MountOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;

/**
 * Decides what a {@link MountRequest} takes on this node, from the request, the node's layout and
 * the kernel's mount table: adopt what an earlier run mounted, refuse a conflict, or the steps that
 * make the mount. Pure, so every decision tests without root; nothing here touches the node.
 *
 * <p>Mounts carry the source {@code strata:<uid>} and Memory uppers' tmpfs {@code
 * strata-upper:<uid>}: that is how a restarted agent recognises its own.
 */
public final class MountPlanner {
  static final String SOURCE_PREFIX = "strata:";
  static final String UPPER_SOURCE_PREFIX = "strata-upper:";

  private final NodeLayout layout;

  public MountPlanner(NodeLayout layout) {
    this.layout = layout;
  }

  /** The plan for {@code request} given {@code table}, or the reason it is refused. */
  public MountPlan plan(MountRequest request, MountTable table) throws MountRefusedException {
    Path target = target(request);
    Path lower = lower(request.lowerRoot());
    Optional<MountInfo> existing = table.at(target);
    if (existing.isPresent()) {
      return adopt(request, target, lower, existing.get());
    }
    refuseConflicts(table, request.uid(), target, lower);

    Upper upper = upperPaths(request);
    List<MountStep> steps = new ArrayList<>();
    steps.add(new RequireLowerDirectory(lower));
    steps.add(new CreateDirectories(layout.mountBase()));
    steps.add(new CreateDirectories(layout.upperHome(request.uid()).getParent()));
    steps.add(new CreatePrivateDirectory(layout.upperHome(request.uid()), null));
    if (request.readOnly()) {
      steps.add(new RequireEmptyDirectory(upper.emptyLower()));
    } else {
      if (request.isMemory()) {
        memoryUpper(request, table).ifPresent(steps::add);
      } else if (request.isSizedDisk()) {
        diskUpper(request, table).ifPresent(steps::add);
      }
      steps.add(new CreatePrivateDirectory(upper.upper(), lower));
      steps.add(new CreatePrivateDirectory(upper.work(), null));
    }
    steps.add(new RecordLower(layout.lowerRecord(request.uid()), lower));
    MountSpec spec = OverlayPlanner.plan(overlayRequest(request, target, lower, upper));
    steps.add(new MountOverlay(spec, layout.mountBase()));
    return new MountPlan(
        steps,
        new MountedOverlay(request.uid(), target, spec, upper.upper(), upper.work(), false, null));
  }

  private Path target(MountRequest request) throws MountRefusedException {
    return MountTargets.requireUnderBase(
        layout.mountBase(),
        request.target() != null
            ? request.target()
            : layout.defaultTarget(request.name()).toString());
  }

  private MountPlan adopt(MountRequest request, Path target, Path lower, MountInfo existing)
      throws MountRefusedException {
    if (!existing.source().equals(SOURCE_PREFIX + request.uid())
        || !"overlay".equals(existing.fsType())) {
      throw new MountRefusedException(
          Reason.Conflict,
          "target "
              + target
              + " is already a mountpoint ("
              + existing.fsType()
              + " from "
              + existing.source()
              + ") not made by this mount; it is never mounted over");
    }
    Upper upper = upperPaths(request);
    Path mountedLower = lowerOf(existing);
    boolean outdated = mountedLower != null && !lower.equals(mountedLower);
    // The spec says what is mounted, which on an outdated mount is not what was asked for.
    MountSpec spec =
        OverlayPlanner.plan(
            overlayRequest(request, target, outdated ? mountedLower : lower, upper));
    return new MountPlan(
        List.of(new RequireLowerDirectory(lower)),
        new MountedOverlay(
            request.uid(),
            target,
            spec,
            upper.upper(),
            upper.work(),
            true,
            outdated ? mountedLower : null));
  }

  /**
   * Refuses targets nested in or around another Strata mount, and lowers inside merged views. One
   * pass over the table comparing path strings: a node's hundreds of mounts cost microseconds.
   */
  private void refuseConflicts(MountTable table, String uid, Path target, Path lower)
      throws MountRefusedException {
    String own = SOURCE_PREFIX + uid;
    String base = layout.mountBase().toString();
    String targetPath = target.toString();
    String lowerPath = lower.toString();
    for (MountInfo m : table.mounts()) {
      if (!m.source().startsWith(SOURCE_PREFIX) || !"overlay".equals(m.fsType())) {
        continue;
      }
      String other = m.mountPoint().toString();
      if (!isWithin(other, base)) {
        continue;
      }
      if (m.source().equals(own)) {
        throw new MountRefusedException(
            Reason.Conflict, "mount " + uid + " is already mounted at " + other);
      }
      if (isWithin(targetPath, other) || isWithin(other, targetPath)) {
        throw new MountRefusedException(
            Reason.Conflict, "target " + target + " nests with Strata mount " + other);
      }
      if (isWithin(lowerPath, other)) {
        throw new MountRefusedException(
            Reason.Conflict, "lower " + lower + " lies inside the merged view " + other);
      }
    }
  }

  /** Whether absolute, normalized {@code path} is {@code dir} or lies beneath it. */
  private static boolean isWithin(String path, String dir) {
    return path.startsWith(dir)
        && (path.length() == dir.length() || dir.equals("/") || path.charAt(dir.length()) == '/');
  }

  private Path lower(Path lowerRoot) throws MountRefusedException {
    if (lowerRoot == null || !lowerRoot.isAbsolute()) {
      throw new MountRefusedException(
          Reason.LowerMissing, "lower root " + lowerRoot + " is not an absolute path");
    }
    Path lower = lowerRoot.normalize();
    if (lower.startsWith(layout.mountBase())) {
      throw new MountRefusedException(
          Reason.Conflict, "lower root " + lower + " lies under the mount base");
    }
    return lower;
  }

  /**
   * A tmpfs of the requested size at {@code <mount base>/.uppers/<uid>}; none when one from an
   * earlier run still holds the upper (adopted); refused when something else is mounted there.
   */
  private Optional<MountStep> memoryUpper(MountRequest request, MountTable table)
      throws MountRefusedException {
    Path home = layout.memoryUpper(request.uid());
    Optional<MountInfo> existing = table.at(home);
    if (existing.isPresent()) {
      if (!existing.get().source().equals(UPPER_SOURCE_PREFIX + request.uid())) {
        throw new MountRefusedException(
            Reason.Conflict, home + " is a mountpoint not made by Strata");
      }
      return Optional.empty();
    }
    return Optional.of(
        new MountTmpfs(
            new MountSpec(
                UPPER_SOURCE_PREFIX + request.uid(),
                home,
                "tmpfs",
                EnumSet.of(MountOption.NO_SUID, MountOption.NO_DEV),
                "size=" + request.memoryBytes() + ",mode=0700"),
            layout.mountBase()));
  }

  /**
   * An ext4 of the requested size at {@code uppers/<uid>/fs}, from {@code uppers/<uid>/disk.img};
   * none when it is mounted there still (adopted); refused when something else is.
   */
  private Optional<MountStep> diskUpper(MountRequest request, MountTable table)
      throws MountRefusedException {
    Path fs = layout.upperFs(request.uid());
    Optional<MountInfo> existing = table.at(fs);
    if (existing.isPresent()) {
      if (!"ext4".equals(existing.get().fsType())) {
        throw new MountRefusedException(
            Reason.Conflict, fs + " is a mountpoint not made by Strata");
      }
      return Optional.empty();
    }
    return Optional.of(
        new MountStep.MountDiskImage(
            layout.upperImage(request.uid()), request.diskBytes(), fs, layout.uppers()));
  }

  private record Upper(Path upper, Path work, Path emptyLower) {}

  private Upper upperPaths(MountRequest request) {
    if (request.readOnly()) {
      return new Upper(null, null, layout.emptyLower());
    }
    Path home =
        request.isMemory()
            ? layout.memoryUpper(request.uid())
            : request.isSizedDisk()
                ? layout.upperFs(request.uid())
                : layout.upperHome(request.uid());
    return new Upper(home.resolve(NodeLayout.UPPER), home.resolve(NodeLayout.WORK), null);
  }

  private static Path lowerOf(MountInfo mount) {
    for (String option : mount.superOptions().split(",")) {
      if (option.startsWith("lowerdir=")) {
        return Path.of(option.substring("lowerdir=".length()).split(":")[0]);
      }
    }
    return null;
  }

  private static OverlayRequest overlayRequest(
      MountRequest request, Path target, Path lower, Upper upper) {
    return new OverlayRequest(
        request.uid(),
        target,
        lower,
        upper.upper(),
        upper.work(),
        upper.emptyLower(),
        request.readOnly(),
        request.volatileUpper(),
        request.seLinuxContext());
  }

  boolean isStrataOverlay(MountInfo m, String source) {
    return "overlay".equals(m.fsType())
        && m.source().equals(source)
        && m.mountPoint().startsWith(layout.mountBase());
  }

  /** Strata's overlays beneath this node's mount base in {@code table}. */
  List<MountInfo> strataOverlays(MountTable table) {
    List<MountInfo> overlays = new ArrayList<>();
    for (MountInfo m : table.mounts()) {
      if (m.source().startsWith(SOURCE_PREFIX)
          && "overlay".equals(m.fsType())
          && m.mountPoint().startsWith(layout.mountBase())) {
        overlays.add(m);
      }
    }
    return overlays;
  }
}
