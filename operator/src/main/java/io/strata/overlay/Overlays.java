package io.strata.overlay;

import io.strata.layout.NodeLayout;
import io.strata.layout.RecordFile;
import io.strata.layout.Trees;
import io.strata.overlay.MountRefusedException.Reason;
import io.strata.overlay.MountStep.CreateDirectories;
import io.strata.overlay.MountStep.CreatePrivateDirectory;
import io.strata.overlay.MountStep.MountDiskImage;
import io.strata.overlay.MountStep.MountOverlay;
import io.strata.overlay.MountStep.MountTmpfs;
import io.strata.overlay.MountStep.RecordLower;
import io.strata.overlay.MountStep.RequireEmptyDirectory;
import io.strata.overlay.MountStep.RequireLowerDirectory;
import io.strata.overlay.MountStep.ShareWithGroup;
import io.strata.sys.Errno;
import io.strata.sys.Fd;
import io.strata.sys.FileStat;
import io.strata.sys.LoopDevice;
import io.strata.sys.MountOption;
import io.strata.sys.SyscallException;
import io.strata.sys.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * The node's overlay mounts: makes, adopts and removes them. What a mount takes is decided by
 * {@link MountPlanner} (with {@link OverlayPlanner} and {@link MountTargets}) from the kernel's
 * mount table; this class carries the plan out through {@link Syscalls}, and unmounts.
 */
public final class Overlays implements MountEngine {
  /** How long to wait between unmount attempts while a mount is busy, before reporting it. */
  public static final List<Duration> BUSY_BACKOFF =
      Stream.of(50, 100, 200, 400, 800, 1600).map(Duration::ofMillis).toList();

  private static final int MAX_MOVED_RETRIES = 50;

  private final NodeLayout layout;
  private final Syscalls sys;
  private final MountTableSource mountTable;
  private final List<Duration> busyBackoff;
  private final MountPlanner planner;

  /**
   * The table {@link #readMountTable()} read last, and it with this engine's own mounts and
   * unmounts since: what a pass decides on (see {@link #mount(MountRequest, MountTable)}).
   */
  private final Object viewLock = new Object();

  private MountTable lastRead;
  private MountTable view;

  public Overlays(NodeLayout layout, Syscalls sys) {
    this(layout, sys, MountTableSource.KERNEL, BUSY_BACKOFF);
  }

  public Overlays(
      NodeLayout layout, Syscalls sys, MountTableSource mountTable, List<Duration> busyBackoff) {
    this.layout = layout;
    this.sys = sys;
    this.mountTable = mountTable;
    this.busyBackoff = List.copyOf(busyBackoff);
    this.planner = new MountPlanner(layout);
  }

  /** A warning when the mount base is not a shared mount (mounts would not reach pods). */
  public Optional<String> mountBaseProblem() throws IOException {
    return MountBase.problem(mountTable.read(), layout.mountBase());
  }

  /** Strata's overlays beneath this node's mount base, by uid. */
  public Map<String, MountInfo> mounted() throws IOException {
    return mounted(mountTable.read());
  }

  @Override
  public Map<String, MountInfo> mounted(MountTable table) {
    Map<String, MountInfo> mounts = new LinkedHashMap<>();
    for (MountInfo m : planner.strataOverlays(table)) {
      mounts.put(m.source().substring(MountPlanner.SOURCE_PREFIX.length()), m);
    }
    return mounts;
  }

  @Override
  public MountTable readMountTable() throws IOException {
    MountTable table = mountTable.read();
    synchronized (viewLock) {
      lastRead = table;
      view = table;
    }
    return table;
  }

  /**
   * What to decide on for a caller holding {@code snapshot}: the table this engine read last, with
   * its own mounts and unmounts since, when that is the snapshot; else the snapshot as it is.
   */
  private MountTable viewOf(MountTable snapshot) {
    synchronized (viewLock) {
      return snapshot == lastRead ? view : snapshot;
    }
  }

  /** Adds the mount just made at {@code spec}'s target to the view, by its id on the handle. */
  private void noteMounted(MountSpec spec, Path beneath) throws SyscallException {
    synchronized (viewLock) {
      if (view == null) {
        return; // no pass is planning on a view
      }
    }
    Path target = spec.target();
    int id;
    int parentId;
    try (Fd parent = openParent(beneath, target)) {
      if (parent == null) {
        return; // moved at once: the next read shows where it is
      }
      parentId = Math.toIntExact(sys.mountId(parent));
      try (Fd root =
          sys.openDirectoryBeneathAcrossMounts(parent, target.getFileName().toString())) {
        id = Math.toIntExact(sys.mountId(root));
      }
    }
    MountInfo made =
        new MountInfo(
            id,
            parentId,
            "0:0",
            "/",
            target,
            "rw",
            List.of(),
            spec.fsType(),
            spec.source(),
            spec.data() == null ? "rw" : "rw," + spec.data());
    synchronized (viewLock) {
      view = view.with(made);
    }
  }

  private void forgetView() {
    synchronized (viewLock) {
      lastRead = null;
      view = null;
    }
  }

  private void noteUnmounted(MountInfo mount) {
    synchronized (viewLock) {
      if (view != null) {
        view = view.without(mount.mountId());
      }
    }
  }

  @Override
  public MountedOverlay mount(MountRequest request) throws MountRefusedException, IOException {
    return mount(request, null);
  }

  /**
   * As {@link #mount(MountRequest)}, given {@code snapshot}, the table {@link #readMountTable()}
   * read for this pass: the plan is made on it, with what this engine mounted and unmounted since,
   * so a pass over n mounts reads and parses the table once, not n times, and decides what a fresh
   * read would. Only this engine makes Strata's mounts (one agent per node holds the node lock).
   * What anyone else mounted since is caught on the handles: a target on or beneath another mount
   * is refused as the target is opened (RESOLVE_NO_XDEV). A conflict is decided again on a fresh
   * read before it is reported, so a snapshot older than the mounts cannot refuse what it should
   * adopt.
   */
  @Override
  public MountedOverlay mount(MountRequest request, MountTable snapshot)
      throws MountRefusedException, IOException {
    if (snapshot == null) {
      return execute(planner.plan(request, mountTable.read()));
    }
    try {
      return execute(planner.plan(request, viewOf(snapshot)));
    } catch (MountRefusedException e) {
      if (e.reason() != Reason.Conflict) {
        throw e;
      }
      // A conflict is only ever decided on the kernel's own word: a table older than what is
      // mounted now (not this engine's) would refuse what a fresh read adopts.
      return execute(planner.plan(request, mountTable.read()));
    }
  }

  /**
   * Carries out {@code plan}'s steps in order; the outcome learns the previously recorded lower.
   */
  public MountedOverlay execute(MountPlan plan) throws MountRefusedException, IOException {
    Path previousLower = plan.outcome().previousLower();
    for (MountStep step : plan.steps()) {
      switch (step) {
        case RequireLowerDirectory(Path lower) -> requireDirectory(lower);
        case CreateDirectories(Path dir) -> Files.createDirectories(dir);
        case CreatePrivateDirectory(Path dir, Path ownerFrom) -> {
          if (createPrivateDir(dir) && ownerFrom != null) {
            copyOwnerAndMode(ownerFrom, dir);
          }
        }
        case RequireEmptyDirectory(Path dir) -> requireEmpty(dir);
        case ShareWithGroup(Path dir, int gid) -> shareWithGroup(dir, gid);
        case MountTmpfs(MountSpec spec, Path beneath) -> mountAt(spec, beneath);
        case MountDiskImage(Path image, long bytes, Path target, Path beneath) ->
            mountDiskImage(image, bytes, target, beneath);
        case RecordLower(Path record, Path lower) -> previousLower = recordLower(record, lower);
        case MountOverlay(MountSpec spec, Path beneath) -> mountAt(spec, beneath);
      }
    }
    MountedOverlay outcome = plan.outcome();
    return new MountedOverlay(
        outcome.uid(),
        outcome.target(),
        outcome.spec(),
        outcome.upperDir(),
        outcome.workDir(),
        outcome.adopted(),
        previousLower);
  }

  private void requireDirectory(Path lower) throws MountRefusedException {
    try {
      if (!sys.lstat(lower).isDirectory()) {
        throw new MountRefusedException(
            Reason.LowerMissing, "lower root " + lower + " is not a directory");
      }
    } catch (SyscallException e) {
      throw new MountRefusedException(Reason.LowerMissing, e.getMessage());
    }
  }

  private static void requireEmpty(Path dir) throws IOException, MountRefusedException {
    Files.createDirectories(dir);
    try (var entries = Files.list(dir)) {
      if (entries.findAny().isPresent()) {
        throw new MountRefusedException(Reason.MountFailed, dir + " should be empty and is not");
      }
    }
  }

  /** One mount(2) onto its target, opened beneath {@code beneath} (created on the way). */
  private void mountAt(MountSpec spec, Path beneath) throws IOException, MountRefusedException {
    try (Fd handle = openTarget(beneath, spec.target())) {
      sys.mount(spec.source(), handle.procPath(), spec.fsType(), spec.flags(), spec.data());
    } catch (SyscallException e) {
      throw new MountRefusedException(Reason.MountFailed, e.getMessage());
    }
    try {
      noteMounted(spec, beneath);
    } catch (SyscallException e) {
      forgetView(); // mounted; the next pass reads where
    }
  }

  /**
   * Mounts the image's file system from a loop device that goes when it does, making the image
   * first unless an earlier mount left it (an upper is kept across remounts).
   */
  private void mountDiskImage(Path image, long bytes, Path target, Path beneath)
      throws IOException, MountRefusedException {
    if (!Files.exists(image, LinkOption.NOFOLLOW_LINKS)) {
      DiskImage.create(image, bytes);
    }
    try (LoopDevice loop = sys.attachLoopDevice(image)) {
      mountAt(
          new MountSpec(
              loop.path().toString(),
              target,
              "ext4",
              EnumSet.of(MountOption.NO_SUID, MountOption.NO_DEV),
              null),
          beneath);
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

  private static void shareWithGroup(Path dir, int gid) throws IOException {
    Files.setAttribute(dir, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
    int mode = (Integer) Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    Files.setAttribute(dir, "unix:mode", (mode & 07777) | 02070, LinkOption.NOFOLLOW_LINKS);
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
  private static Path recordLower(Path record, Path lower) throws IOException {
    String recorded = RecordFile.read(record);
    Path previous = recorded == null ? null : Path.of(recorded.strip());
    RecordFile.replace(record, lower + "\n");
    return previous == null || previous.equals(lower) ? null : previous;
  }

  // ---- targets

  /**
   * Creates and opens {@code path} beneath {@code base} one component at a time, never following a
   * symlink or crossing into another mount, so a symlink planted or swapped in by anyone who can
   * write the base cannot redirect the mount: it goes onto the handle returned.
   */
  private Fd openTarget(Path base, Path path) throws IOException, MountRefusedException {
    if (!path.startsWith(base) || path.equals(base)) {
      throw new MountRefusedException(
          Reason.UnsafeTarget, "target " + path + " is not strictly beneath " + base);
    }
    Path relative = base.relativize(path);
    Fd current;
    try {
      current = sys.openDirectoryHandle(base);
    } catch (SyscallException e) {
      throw new MountRefusedException(Reason.MountFailed, e.getMessage());
    }
    try {
      for (Path name : relative) {
        sys.mkdirat(current, name.toString(), 0755);
        Fd next = sys.openDirectoryBeneath(current, name.toString());
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
  @Override
  public List<Path> unmount(String uid, boolean deleteUpper)
      throws MountRefusedException, IOException {
    return unmount(uid, deleteUpper, null);
  }

  /**
   * As {@link #unmount(String, boolean)}, finding the mounts in {@code snapshot} as {@link
   * #mount(MountRequest, MountTable)} does; each is checked by mount id on its handle before it is
   * unmounted, and one that is not where the table said sends the search to a fresh read.
   */
  @Override
  public List<Path> unmount(String uid, boolean deleteUpper, MountTable snapshot)
      throws MountRefusedException, IOException {
    new MountRequest(uid, uid, null, Path.of("/"), false, 0, 0, false, null); // validates the uid
    String source = MountPlanner.SOURCE_PREFIX + uid;
    List<Path> targets =
        unmountAll(layout.mountBase(), m -> planner.isStrataOverlay(m, source), snapshot);
    // A sized Disk upper's file system serves only its overlay: it goes with it, its data stays
    // in the image for the next mount unless the upper is deleted too.
    Path disk = layout.upperFs(uid);
    unmountAll(layout.uppers(), m -> m.mountPoint().equals(disk), snapshot);
    if (deleteUpper) {
      Path memory = layout.memoryUpper(uid);
      String upperSource = MountPlanner.UPPER_SOURCE_PREFIX + uid;
      unmountAll(
          layout.mountBase(),
          m -> m.mountPoint().equals(memory) && m.source().equals(upperSource),
          snapshot);
      Trees.deleteViaTrash(layout.upperHome(uid), layout.store().trash());
    }
    return targets;
  }

  /**
   * Unmounts every mount strictly beneath {@code base} that {@code which} matches, as {@link
   * #unmount} does (EBUSY retried, then {@link Reason#Busy}; never lazily), removing each one's
   * empty directory.
   *
   * @return where they were mounted
   */
  public List<Path> unmountAll(Path base, Predicate<MountInfo> which)
      throws MountRefusedException, IOException {
    return unmountAll(base, which, null);
  }

  /** As {@link #unmountAll(Path, Predicate)}, finding the mounts in {@code snapshot}. */
  private List<Path> unmountAll(Path base, Predicate<MountInfo> which, MountTable snapshot)
      throws MountRefusedException, IOException {
    Predicate<MountInfo> beneath =
        m -> m.mountPoint().startsWith(base) && !m.mountPoint().equals(base);
    List<Path> targets = new ArrayList<>();
    for (Path target; (target = unmountOne(base, which.and(beneath), snapshot)) != null; ) {
      targets.add(target);
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
  private Path unmountOne(Path base, Predicate<MountInfo> which, MountTable snapshot)
      throws MountRefusedException, IOException {
    int busy = 0;
    boolean fresh = snapshot == null;
    for (int attempt = 0; attempt < MAX_MOVED_RETRIES; attempt++) {
      MountTable table = fresh ? mountTable.read() : viewOf(snapshot);
      fresh = true; // after a surprise, or for the next one: the kernel's own word
      Optional<MountInfo> found = table.mounts().stream().filter(which).findFirst();
      if (found.isEmpty()) {
        return null;
      }
      MountInfo mount = found.get();
      String name = mount.mountPoint().getFileName().toString();
      try (Fd parent = openParent(base, mount.mountPoint())) {
        if (parent == null || !isMountAt(parent, name, mount)) {
          continue; // moved or replaced since the table was read: look again
        }
        try {
          sys.unmountNoFollow(parent.procPath() + "/" + name);
        } catch (SyscallException e) {
          if (e.is(Errno.EINVAL)) {
            continue; // no longer a mountpoint under that name
          }
          if (!e.is(Errno.EBUSY)) {
            throw new MountRefusedException(Reason.MountFailed, e.getMessage());
          }
          if (busy == busyBackoff.size()) {
            throw new MountRefusedException(
                Reason.Busy,
                mount.mountPoint()
                    + " is busy, held by "
                    + String.join(", ", Holders.of(mount.mountPoint())));
          }
          sleep(busyBackoff.get(busy++));
          continue;
        }
        noteUnmounted(mount);
        removeEmptyDirectory(parent, name);
        return mount.mountPoint();
      }
    }
    throw new MountRefusedException(
        Reason.MountFailed, "a mount kept moving while being unmounted; giving up for now");
  }

  /**
   * The parent directory of {@code path}, opened beneath {@code base}; null when gone or swapped.
   */
  private Fd openParent(Path base, Path path) throws SyscallException {
    Fd baseHandle = sys.openDirectoryHandle(base);
    String relative = base.relativize(path.getParent()).toString();
    if (relative.isEmpty()) {
      return baseHandle;
    }
    try (baseHandle) {
      return sys.openDirectoryBeneathAcrossMounts(baseHandle, relative);
    } catch (SyscallException e) {
      if (isMoved(e)) {
        return null;
      }
      throw e;
    }
  }

  /** Whether {@code name} in {@code parent} is the root of {@code mount}. */
  private boolean isMountAt(Fd parent, String name, MountInfo mount) throws SyscallException {
    try (Fd root = sys.openDirectoryBeneathAcrossMounts(parent, name)) {
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

  private static void sleep(Duration pause) throws IOException {
    try {
      Thread.sleep(pause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while unmounting", e);
    }
  }
}
