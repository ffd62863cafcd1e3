package io.strata.overlay;

import io.strata.layout.NodeLayout;
import io.strata.layout.RecordFile;
import io.strata.layout.Trees;
import io.strata.overlay.MountRefusedException.Reason;
import io.strata.sys.Fd;
import io.strata.sys.FileStat;
import io.strata.sys.LibC;
import io.strata.sys.SyscallException;
import io.strata.sys.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import jnr.constants.platform.Errno;

/**
 * The node's overlay mounts: makes, adopts and removes them. Decisions come from {@link
 * OverlayPlanner}, {@link MountTargets} and the kernel's mount table; this class only carries them
 * out, through {@link Syscalls}. Mounts carry the source {@code strata:<uid>}, which is how a
 * restarted agent recognises its own and adopts them instead of mounting twice.
 */
public final class Overlays {
  static final String SOURCE_PREFIX = "strata:";
  static final String UPPER_SOURCE_PREFIX = "strata-upper:";
  private static final long[] UNMOUNT_BACKOFF_MILLIS = {50, 100, 200, 400, 800, 1600};
  private static final int MAX_MOVED_RETRIES = 50;

  private final NodeLayout layout;
  private final Syscalls sys;

  public Overlays(NodeLayout layout, Syscalls sys) {
    this.layout = layout;
    this.sys = sys;
  }

  /** A warning when the mount base is not a shared mount (mounts would not reach pods). */
  public Optional<String> mountBaseProblem() throws IOException {
    return MountBase.problem(MountTable.read(), layout.mountBase());
  }

  /** Strata's overlays beneath this node's mount base, by uid. */
  public Map<String, MountInfo> mounted() throws IOException {
    return mounted(MountTable.read());
  }

  /** Strata's overlays beneath this node's mount base in {@code table}, by uid. */
  public Map<String, MountInfo> mounted(MountTable table) {
    Map<String, MountInfo> mounts = new LinkedHashMap<>();
    for (MountInfo m : strataOverlays(table)) {
      mounts.put(m.source().substring(SOURCE_PREFIX.length()), m);
    }
    return mounts;
  }

  /** Mounts {@code request}, or adopts it when an earlier run already did. */
  public MountedOverlay mount(MountRequest request) throws MountRefusedException, IOException {
    return mount(request, null);
  }

  /**
   * As {@link #mount(MountRequest)}, given {@code snapshot}, a table read earlier in the same pass.
   * This request's own overlay found there at its target is adopted from it: adopting changes
   * nothing on the node, and a pass over n mounts then reads the table once, not n times. Anything
   * else (a mount to make, a conflict to refuse) is decided on a fresh read.
   */
  public MountedOverlay mount(MountRequest request, MountTable snapshot)
      throws MountRefusedException, IOException {
    Path target =
        MountTargets.requireUnderBase(
            layout.mountBase(),
            request.target() != null
                ? request.target()
                : layout.defaultTarget(request.name()).toString());
    Path lower = requireLower(request.lowerRoot());
    if (snapshot != null) {
      Optional<MountInfo> seen =
          snapshot.at(target).filter(m -> isStrataOverlay(m, SOURCE_PREFIX + request.uid()));
      if (seen.isPresent()) {
        return adopt(request, target, lower, seen.get());
      }
    }
    MountTable table = MountTable.read();
    Optional<MountInfo> existing = table.at(target);
    if (existing.isPresent()) {
      return adopt(request, target, lower, existing.get());
    }
    refuseConflicts(table, request.uid(), target, lower);

    Files.createDirectories(layout.mountBase());
    Upper upper = prepareUpper(request, lower, table);
    Path previousLower = recordLower(request.uid(), lower);
    MountSpec spec = OverlayPlanner.plan(overlayRequest(request, target, lower, upper));
    try (Fd handle = openTarget(target)) {
      sys.mount(spec.source(), handle.procPath(), spec.fsType(), spec.flags(), spec.data());
    } catch (SyscallException e) {
      throw new MountRefusedException(Reason.MountFailed, e.getMessage());
    }
    return new MountedOverlay(
        request.uid(), target, spec, upper.upper(), upper.work(), false, previousLower);
  }

  private MountedOverlay adopt(MountRequest request, Path target, Path lower, MountInfo existing)
      throws MountRefusedException, IOException {
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
    return new MountedOverlay(
        request.uid(),
        target,
        spec,
        upper.upper(),
        upper.work(),
        true,
        outdated ? mountedLower : null);
  }

  /** Refuses targets nested in or around another Strata mount, and lowers inside merged views. */
  private void refuseConflicts(MountTable table, String uid, Path target, Path lower)
      throws MountRefusedException {
    for (MountInfo m : strataOverlays(table)) {
      Path other = m.mountPoint();
      if (m.source().equals(SOURCE_PREFIX + uid)) {
        throw new MountRefusedException(
            Reason.Conflict, "mount " + uid + " is already mounted at " + other);
      }
      if (target.startsWith(other) || other.startsWith(target)) {
        throw new MountRefusedException(
            Reason.Conflict, "target " + target + " nests with Strata mount " + other);
      }
      if (lower.startsWith(other)) {
        throw new MountRefusedException(
            Reason.Conflict, "lower " + lower + " lies inside the merged view " + other);
      }
    }
  }

  private Path requireLower(Path lowerRoot) throws MountRefusedException {
    if (lowerRoot == null || !lowerRoot.isAbsolute()) {
      throw new MountRefusedException(
          Reason.LowerMissing, "lower root " + lowerRoot + " is not an absolute path");
    }
    Path lower = lowerRoot.normalize();
    if (lower.startsWith(layout.mountBase())) {
      throw new MountRefusedException(
          Reason.Conflict, "lower root " + lower + " lies under the mount base");
    }
    try {
      if (!sys.lstat(lower).isDirectory()) {
        throw new MountRefusedException(
            Reason.LowerMissing, "lower root " + lower + " is not a directory");
      }
    } catch (SyscallException e) {
      throw new MountRefusedException(Reason.LowerMissing, e.getMessage());
    }
    return lower;
  }

  // ---- uppers

  private record Upper(Path upper, Path work, Path emptyLower) {}

  private Upper upperPaths(MountRequest request) {
    if (request.readOnly()) {
      return new Upper(null, null, layout.emptyLower());
    }
    Path home =
        request.isMemory() ? layout.memoryUpper(request.uid()) : layout.upperHome(request.uid());
    return new Upper(home.resolve(NodeLayout.UPPER), home.resolve(NodeLayout.WORK), null);
  }

  private Upper prepareUpper(MountRequest request, Path lower, MountTable table)
      throws IOException, MountRefusedException {
    Upper upper = upperPaths(request);
    Files.createDirectories(layout.upperHome(request.uid()).getParent());
    createPrivateDir(layout.upperHome(request.uid()));
    if (request.readOnly()) {
      Files.createDirectories(upper.emptyLower());
      try (var entries = Files.list(upper.emptyLower())) {
        if (entries.findAny().isPresent()) {
          throw new MountRefusedException(
              Reason.MountFailed, upper.emptyLower() + " should be empty and is not");
        }
      }
      return upper;
    }
    if (request.isMemory()) {
      mountMemoryUpper(request, table);
    }
    if (createPrivateDir(upper.upper())) {
      copyOwnerAndMode(lower, upper.upper()); // the merged root shows the upper's attributes
    }
    createPrivateDir(upper.work());
    return upper;
  }

  /** A tmpfs of the requested size at {@code <mount base>/.uppers/<uid>}, opened safely. */
  private void mountMemoryUpper(MountRequest request, MountTable table)
      throws IOException, MountRefusedException {
    Path home = layout.memoryUpper(request.uid());
    Optional<MountInfo> existing = table.at(home);
    if (existing.isPresent()) {
      if (!existing.get().source().equals(UPPER_SOURCE_PREFIX + request.uid())) {
        throw new MountRefusedException(
            Reason.Conflict, home + " is a mountpoint not made by Strata");
      }
      return; // adopted: a tmpfs from an earlier run still holds the upper
    }
    try (Fd handle = openTarget(home)) {
      sys.mount(
          UPPER_SOURCE_PREFIX + request.uid(),
          handle.procPath(),
          "tmpfs",
          LibC.MS_NOSUID | LibC.MS_NODEV,
          "size=" + request.memoryBytes() + ",mode=0700");
    } catch (SyscallException e) {
      throw new MountRefusedException(Reason.MountFailed, e.getMessage());
    }
  }

  private static boolean createPrivateDir(Path dir) throws IOException {
    if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    Files.createDirectory(dir);
    Files.setAttribute(dir, "unix:mode", 0700);
    return true;
  }

  private void copyOwnerAndMode(Path from, Path to) throws IOException {
    FileStat source = sys.lstat(from);
    Files.setAttribute(to, "unix:uid", source.uid(), LinkOption.NOFOLLOW_LINKS);
    Files.setAttribute(to, "unix:gid", source.gid(), LinkOption.NOFOLLOW_LINKS);
    Files.setAttribute(to, "unix:mode", source.mode() & 07777, LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * Records which lower the upper is mounted on. When it changed, the upper is kept and mounted on
   * the new lower (the documented policy); the previous lower is returned so callers can say so.
   */
  private Path recordLower(String uid, Path lower) throws IOException {
    Path record = layout.lowerRecord(uid);
    String recorded = RecordFile.read(record);
    Path previous = recorded == null ? null : Path.of(recorded.strip());
    RecordFile.replace(record, lower + "\n");
    return previous == null || previous.equals(lower) ? null : previous;
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

  // ---- targets

  /**
   * Creates and opens {@code path} beneath the mount base one component at a time, never following
   * a symlink or crossing into another mount, so a symlink planted or swapped in by anyone who can
   * write the base cannot redirect the mount: it goes onto the handle returned.
   */
  private Fd openTarget(Path path) throws IOException, MountRefusedException {
    Path relative = layout.mountBase().relativize(path);
    Fd current = sys.open(layout.mountBase(), LibC.O_PATH | LibC.O_DIRECTORY, 0);
    try {
      for (Path name : relative) {
        sys.mkdirat(current, name.toString(), 0755);
        Fd next =
            sys.openBeneath(
                current, name.toString(), LibC.O_PATH | LibC.O_DIRECTORY, LibC.RESOLVE_NO_XDEV);
        current.close();
        current = next;
      }
      Fd opened = current;
      current = null;
      return opened;
    } catch (SyscallException e) {
      throw refusedTarget(path, e);
    } finally {
      if (current != null) {
        current.close();
      }
    }
  }

  private static MountRefusedException refusedTarget(Path path, SyscallException e) {
    if (e.is(Errno.EXDEV)) {
      return new MountRefusedException(
          Reason.Conflict, "target " + path + " lies on or beneath another mount");
    }
    if (e.is(Errno.ELOOP) || e.is(Errno.ENOTDIR)) {
      return new MountRefusedException(
          Reason.UnsafeTarget, "target " + path + " has a symlink or non-directory component");
    }
    return new MountRefusedException(Reason.MountFailed, e.getMessage());
  }

  // ---- unmount

  /**
   * Unmounts mount {@code uid} wherever it is beneath the mount base, removes its empty target
   * directory and, when {@code deleteUpper}, its upper. EBUSY is retried with backoff, then
   * reported as {@link Reason#Busy} naming the holders; a mount is never detached lazily.
   *
   * @return the targets that were unmounted (empty when nothing was mounted)
   */
  public List<Path> unmount(String uid, boolean deleteUpper)
      throws MountRefusedException, IOException {
    new MountRequest(uid, uid, null, Path.of("/"), false, 0, false, null); // validates the uid
    String source = SOURCE_PREFIX + uid;
    List<Path> targets = new ArrayList<>();
    for (Path target; (target = unmountOne(m -> isStrataOverlay(m, source))) != null; ) {
      targets.add(target);
    }
    if (deleteUpper) {
      Path memory = layout.memoryUpper(uid);
      String upperSource = UPPER_SOURCE_PREFIX + uid;
      unmountOne(m -> m.mountPoint().equals(memory) && m.source().equals(upperSource));
      Trees.deleteViaTrash(layout.upperHome(uid), layout.trash());
    }
    return targets;
  }

  /**
   * Unmounts the first mount matching {@code which} and removes its now empty directory. It is
   * reached through a handle on its parent, opened beneath the base without following symlinks,
   * after checking (by mount id) that the name there is that very mount; never through a path that
   * may have been swapped since the mount table was read. Only the parent is held open: a handle
   * inside the mount would itself make it busy.
   *
   * @return where it was mounted, or null when nothing matches
   */
  private Path unmountOne(Predicate<MountInfo> which) throws MountRefusedException, IOException {
    int busy = 0;
    for (int attempt = 0; attempt < MAX_MOVED_RETRIES; attempt++) {
      Optional<MountInfo> found = MountTable.read().mounts().stream().filter(which).findFirst();
      if (found.isEmpty()) {
        return null;
      }
      MountInfo mount = found.get();
      String name = mount.mountPoint().getFileName().toString();
      try (Fd parent = openParent(mount.mountPoint())) {
        if (parent == null || !isMountAt(parent, name, mount)) {
          continue; // moved or replaced since the table was read: look again
        }
        try {
          sys.umount2(parent.procPath() + "/" + name, LibC.UMOUNT_NOFOLLOW);
        } catch (SyscallException e) {
          if (e.is(Errno.EINVAL)) {
            continue; // no longer a mountpoint under that name
          }
          if (!e.is(Errno.EBUSY)) {
            throw new MountRefusedException(Reason.MountFailed, e.getMessage());
          }
          if (busy == UNMOUNT_BACKOFF_MILLIS.length) {
            throw new MountRefusedException(
                Reason.Busy,
                mount.mountPoint()
                    + " is busy, held by "
                    + String.join(", ", Holders.of(mount.mountPoint())));
          }
          sleep(UNMOUNT_BACKOFF_MILLIS[busy++]);
          continue;
        }
        removeEmptyDirectory(parent, name);
        return mount.mountPoint();
      }
    }
    throw new MountRefusedException(
        Reason.MountFailed, "a mount kept moving while being unmounted; giving up for now");
  }

  /** The parent directory of {@code path}, opened beneath the base; null when gone or swapped. */
  private Fd openParent(Path path) throws SyscallException {
    Fd base = sys.open(layout.mountBase(), LibC.O_PATH | LibC.O_DIRECTORY, 0);
    String relative = layout.mountBase().relativize(path.getParent()).toString();
    if (relative.isEmpty()) {
      return base;
    }
    try (base) {
      return sys.openBeneath(base, relative, LibC.O_PATH | LibC.O_DIRECTORY, 0);
    } catch (SyscallException e) {
      if (isMoved(e)) {
        return null;
      }
      throw e;
    }
  }

  /** Whether {@code name} in {@code parent} is the root of {@code mount}. */
  private boolean isMountAt(Fd parent, String name, MountInfo mount) throws SyscallException {
    try (Fd root = sys.openBeneath(parent, name, LibC.O_PATH | LibC.O_DIRECTORY, 0)) {
      return sys.mountId(root) == mount.mountId();
    } catch (SyscallException e) {
      if (isMoved(e)) {
        return false;
      }
      throw e;
    }
  }

  private static boolean isMoved(SyscallException e) {
    return e.is(Errno.ENOENT) || e.is(Errno.ELOOP) || e.is(Errno.ENOTDIR) || e.is(Errno.EXDEV);
  }

  private void removeEmptyDirectory(Fd parent, String name) {
    try {
      sys.unlinkat(parent, name, true);
    } catch (SyscallException e) {
      // gone, moved, or not empty (someone wrote into the bare directory): not Strata's to remove
    }
  }

  private static void sleep(long millis) throws IOException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while unmounting", e);
    }
  }

  private boolean isStrataOverlay(MountInfo m, String source) {
    return "overlay".equals(m.fsType())
        && m.source().equals(source)
        && m.mountPoint().startsWith(layout.mountBase());
  }

  private List<MountInfo> strataOverlays(MountTable table) {
    return table.mounts().stream()
        .filter(m -> "overlay".equals(m.fsType()) && m.source().startsWith(SOURCE_PREFIX))
        .filter(m -> m.mountPoint().startsWith(layout.mountBase()))
        .toList();
  }
}
