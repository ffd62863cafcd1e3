package io.strata.tarapply;

import io.strata.layout.Inodes;
import io.strata.layout.Trees;
import io.strata.sys.Errno;
import io.strata.sys.Fd;
import io.strata.sys.FileStat;
import io.strata.sys.FsStat;
import io.strata.sys.SyscallException;
import io.strata.sys.Syscalls;
import io.strata.tarapply.EntryAction.MakeDirectory;
import io.strata.tarapply.EntryAction.MakeHardlink;
import io.strata.tarapply.EntryAction.MakeNode;
import io.strata.tarapply.EntryAction.MakeSymlink;
import io.strata.tarapply.EntryAction.Meta;
import io.strata.tarapply.EntryAction.Opaque;
import io.strata.tarapply.EntryAction.Whiteout;
import io.strata.tarapply.EntryAction.WriteFile;
import io.strata.tarapply.LayerException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Applies entry actions to a root being built in private staging. Every name is resolved inside the
 * root with chroot semantics: a symlink met on the way is followed as if the root were {@code /},
 * with {@code ..} stopping at the root, and the final component is never followed. Nothing outside
 * the root can be reached. Nothing is ever written through an existing path: a new entry unlinks
 * what was there and creates a new inode, so inodes shared with the committed ancestor never
 * change.
 *
 * <p>Every system call names its file by a descriptor of the directory it is in and one name. The
 * writer resolves symlinks itself, then opens the directory it arrived at beneath the root with
 * openat2's {@code RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS}: the kernel refuses to follow any symlink
 * on the way, so no bookkeeping of the writer's own can send a call outside the root. Work deferred
 * to the end of a layer (pruning opaque directories, setting directory times) opens its directory
 * afresh the same way; where a later entry of the layer replaced a directory on the way by a
 * symlink, there is nothing of that directory left to prune or time, and the work is skipped.
 */
public final class RootWriter implements AutoCloseable {
  private static final int MAX_SYMLINK_HOPS = 40;
  private static final int BUFFER = 64 << 10;
  private static final int HOLE_BLOCK = 4 << 10;

  /**
   * Free space and inodes are checked, and the checkpoint told, every this many bytes or entries
   * written.
   */
  private static final long CHECK_EVERY_BYTES = 64L << 20;

  private static final long CHECK_EVERY_ENTRIES = 4096;

  /** What a build leaves free for the rest of the node; below either it stops with NoSpace. */
  private static final long RESERVE_BYTES = 256L << 20;

  private static final long RESERVE_INODES = 16_384;

  /** Open directories, by relative path, kept for the entries that follow (tars group by dir). */
  private static final int OPEN_DIRECTORIES = 8;

  private static final String PRIVATE_COPY = "\u0001strata-private"; // no entry has a control char

  /** PATH_MAX less its NUL: the longest path a system call takes. */
  private static final int MAX_PATH_BYTES = 4095;

  /** At most this many real directories are remembered; past it, they are looked up again. */
  private static final int REMEMBERED_DIRS = 16_384;

  private final Fd root;
  private final int rootPathBytes;
  private final Fd ancestor;
  private final Syscalls sys;
  private final Checkpoint checkpoint;
  private final byte[] buffer = new byte[BUFFER];
  private final byte[] zeros = new byte[BUFFER];

  /** Resolved relative paths known to be real directories; dropped when something is removed. */
  private final TreeSet<String> realDirs = new TreeSet<>();

  /** What the current layer made or touched, with every ancestor: opaque dirs spare these. */
  private final PathHashes layerPaths;

  private final PathLog opaqueDirs;

  private long bytesSinceCheck;
  private long entriesSinceCheck;
  private final PathLog directoryTimes;

  /** Directories opened beneath the root, most recently used last; see {@link #dir}. */
  private final LinkedHashMap<String, Fd> openDirs = new LinkedHashMap<>(16, 0.75f, true);

  /**
   * Told every {@link #CHECK_EVERY_BYTES} bytes or {@link #CHECK_EVERY_ENTRIES} entries written,
   * after free space is checked; what it throws stops the build.
   */
  @FunctionalInterface
  public interface Checkpoint {
    void reached() throws IOException;
  }

  /**
   * Opens {@code root} (an existing directory, in private staging) and {@code ancestor}; {@link
   * #close} closes them.
   *
   * @param ancestor the committed root this one was hardlink-copied from, or null: inodes shared
   *     with it get a private copy before anything would link more names to them
   * @param checkpoint told as the root grows (the layer store starts writing it back to disk)
   */
  public RootWriter(Path root, Path ancestor, Syscalls sys, Limits limits, Checkpoint checkpoint)
      throws IOException {
    this.sys = sys;
    this.checkpoint = checkpoint;
    this.layerPaths = new PathHashes(limits.maxLayerPaths());
    this.directoryTimes = new PathLog(limits.maxDeferredBytes() * 3 / 4, "directory times");
    this.opaqueDirs = new PathLog(limits.maxDeferredBytes() / 4, "opaque directories");
    this.root = sys.openDirectory(root);
    this.rootPathBytes = root.toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8).length;
    try {
      this.ancestor = ancestor == null ? null : sys.openDirectory(ancestor);
    } catch (IOException e) {
      this.root.close();
      throw e;
    }
  }

  @Override
  public void close() throws IOException {
    try {
      forgetOpenDirectories("");
      if (ancestor != null) {
        ancestor.close();
      }
    } finally {
      root.close();
    }
  }

  void beginLayer() {
    layerPaths.clear();
    opaqueDirs.clear();
    directoryTimes.clear();
  }

  void apply(EntryAction action, InputStream data) throws LayerException, IOException {
    if (++entriesSinceCheck >= CHECK_EVERY_ENTRIES || bytesSinceCheck >= CHECK_EVERY_BYTES) {
      checkRoom(action.path());
      checkpoint.reached();
    }
    try {
      switch (action) {
        case MakeDirectory d -> makeDirectory(d);
        case WriteFile f -> writeFile(f, data);
        case MakeSymlink l -> makeSymlink(l);
        case MakeHardlink h -> makeHardlink(h);
        case MakeNode n -> makeNode(n);
        case Whiteout w -> whiteout(w);
        case Opaque o -> opaque(o);
      }
    } catch (IOException e) {
      if (isNameTooLong(e)) {
        // Within the planner's bounds, but over the kernel's 4095 bytes once under the root's
        // own path (or, for a symlink, as its target): no retry changes that.
        throw new LayerException(
            Reason.InvalidName,
            "entry "
                + action.path()
                + " has a name or link target too long for the kernel under the root being built",
            e);
      }
      throw e;
    }
  }

  private static boolean isNameTooLong(IOException e) {
    return e instanceof SyscallException s && s.is(Errno.ENAMETOOLONG);
  }

  /**
   * Opaque directories drop lower content; then directory times, now that contents are done. Each
   * directory is opened afresh beneath the root (see the class comment): what a later entry
   * replaced is skipped.
   */
  void endLayer() throws IOException {
    opaqueDirs.forEach(
        (dir, unused) -> {
          try (Fd fd = reopen(dir)) {
            if (fd != null) {
              prune(fd, dir);
            }
          }
        });
    directoryTimes.forEach(
        (rel, nanos) -> {
          if (rel.isEmpty()) {
            sys.futimes(root, nanos);
            return;
          }
          try (Fd parent = reopen(parentOf(rel))) {
            FileStat attrs = parent == null ? null : sys.lstatatIfExists(parent, nameOf(rel));
            if (attrs != null && attrs.isDirectory()) {
              sys.lutimesat(parent, nameOf(rel), nanos);
            }
          }
        });
  }

  /**
   * Directory {@code rel} opened afresh beneath the root, or null when it is no longer a directory
   * reached without a symlink: an entry after the one that made it replaced it or a parent.
   */
  private Fd reopen(String rel) throws IOException {
    try {
      return sys.openDirectoryBeneath(root, rel.isEmpty() ? "." : rel);
    } catch (SyscallException e) {
      if (e.is(Errno.ELOOP) || e.is(Errno.ENOTDIR) || e.is(Errno.ENOENT)) {
        return null;
      }
      throw e;
    }
  }

  // ---- entries

  private void makeDirectory(MakeDirectory d) throws LayerException, IOException {
    if (d.path().isRoot()) {
      setOwnerModeXattrs(d.path(), root, ".", d.meta());
      directoryTimes.add("", d.meta().mtimeNanos());
      return;
    }
    String rel = place(d.path());
    Fd parent = dir(parentOf(rel)); // removing what is at rel leaves its parent's handle open
    String name = nameOf(rel);
    FileStat existing = sys.lstatatIfExists(parent, name);
    if (existing != null && !existing.isDirectory()) {
      remove(rel, existing);
      existing = null;
    }
    if (existing == null) {
      sys.mkdirat(parent, name, 0700); // its mode once its owner is set
    }
    rememberDir(rel);
    touched(rel);
    setOwnerModeXattrs(d.path(), parent, name, d.meta());
    directoryTimes.add(rel, d.meta().mtimeNanos());
  }

  /**
   * A new inode for a file: created exclusively (what was there goes first), its data written, then
   * owner, mode, xattrs and times set through the open descriptor, so the path is walked once.
   */
  private void writeFile(WriteFile f, InputStream data) throws LayerException, IOException {
    String rel = place(f.path());
    Fd created = sys.createNewAt(dir(parentOf(rel)), nameOf(rel), 0600);
    if (created == null) {
      clear(rel);
      created = sys.createNewAt(dir(parentOf(rel)), nameOf(rel), 0600);
      if (created == null) {
        throw new IOException(rel + " reappeared while being replaced");
      }
    }
    try (Fd out = created) {
      long written = f.regions() == null ? copySparse(data, out) : copyRegions(data, out, f);
      bytesSinceCheck += f.regions() == null ? written : dataBytes(f.regions());
      if (written != f.size()) {
        throw new LayerException(
            Reason.Truncated,
            "entry " + f.path() + " holds " + written + " of " + f.size() + " bytes");
      }
      Meta meta = f.meta();
      sys.fchown(out, meta.uid(), meta.gid());
      sys.fchmod(out, meta.mode()); // after chown, which clears setuid and setgid
      for (Map.Entry<String, byte[]> xattr : meta.xattrs().entrySet()) {
        setXattr(f.path(), xattr, () -> sys.fsetxattr(out, xattr.getKey(), xattr.getValue()));
      }
      sys.futimes(out, meta.mtimeNanos());
    }
  }

  /**
   * Copies an entry's data, leaving holes where whole 4 KiB blocks are zero (sparse files stay
   * sparse, to the filesystem's block size): runs of non-zero blocks are written in one call each.
   */
  private long copySparse(InputStream data, Fd out) throws IOException {
    long position = 0;
    boolean endsInHole = false;
    for (int n; (n = data.readNBytes(buffer, 0, buffer.length)) > 0; ) {
      int run = -1; // start of the current run of non-zero blocks, or -1
      for (int block = 0; block < n; block += HOLE_BLOCK) {
        int end = Math.min(block + HOLE_BLOCK, n);
        boolean zero = Arrays.mismatch(buffer, block, end, zeros, 0, end - block) < 0;
        if (!zero && run < 0) {
          run = block;
        } else if (zero && run >= 0) {
          sys.pwrite(out, buffer, run, block - run, position + run);
          run = -1;
        }
        endsInHole = zero;
      }
      if (run >= 0) {
        sys.pwrite(out, buffer, run, n - run, position + run);
      }
      position += n;
    }
    if (endsInHole) {
      sys.pwrite(out, new byte[1], 0, 1, position - 1);
    }
    return position;
  }

  /**
   * Copies a sparse entry's data regions to their offsets and leaves everything else a hole: the
   * holes are skipped in the archive's stream, not read as zeros, so a file of a terabyte with a
   * byte of data costs a byte of work. Returns the file's size, as {@link #copySparse} does.
   */
  private long copyRegions(InputStream data, Fd out, WriteFile f) throws IOException {
    long[] regions = f.regions();
    long position = 0;
    for (int i = 0; i < regions.length; i += 2) {
      long offset = regions[i];
      long length = regions[i + 1];
      data.skipNBytes(offset - position); // a hole: Commons Compress skips it without reading
      for (long done = 0; done < length; ) {
        int n = data.readNBytes(buffer, 0, (int) Math.min(buffer.length, length - done));
        if (n == 0) {
          return offset + done; // ends early: the caller says Truncated
        }
        sys.pwrite(out, buffer, n, offset + done);
        done += n;
      }
      position = offset + length;
    }
    data.skipNBytes(f.size() - position);
    sys.ftruncate(out, f.size());
    return f.size();
  }

  private static long dataBytes(long[] regions) {
    long bytes = 0;
    for (int i = 1; i < regions.length; i += 2) {
      bytes += regions[i];
    }
    return bytes;
  }

  private void makeSymlink(MakeSymlink l) throws LayerException, IOException {
    String rel = place(l.path());
    String name = nameOf(rel);
    if (!sys.symlinkatIfAbsent(l.target(), dir(parentOf(rel)), name)) {
      clear(rel);
      sys.symlinkat(l.target(), dir(parentOf(rel)), name);
    }
    Fd parent = dir(parentOf(rel));
    sys.lchownat(parent, name, l.meta().uid(), l.meta().gid());
    sys.lutimesat(parent, name, l.meta().mtimeNanos());
  }

  private void makeNode(MakeNode n) throws LayerException, IOException {
    String rel = place(n.path());
    clear(rel);
    Fd parent = dir(parentOf(rel));
    sys.mknodat(parent, nameOf(rel), n.type() | 0600, n.major(), n.minor());
    setOwnerModeXattrs(n.path(), parent, nameOf(rel), n.meta());
    sys.lutimesat(parent, nameOf(rel), n.meta().mtimeNanos());
  }

  /**
   * A hardlink to a file an earlier entry made. Its target resolves inside the root like any name
   * (an absolute target is relative to the root); a hardlink to a symlink links the symlink itself.
   * A target shared with the committed ancestor first gets a private copy, so the new name never
   * joins the ancestor's inode.
   */
  private void makeHardlink(MakeHardlink h) throws LayerException, IOException {
    String targetRel =
        resolveParentThen(h.target(), Walk.EXISTING, "the target of hardlink " + h.path());
    FileStat targetAttrs = targetRel == null ? null : lstat(targetRel);
    if (targetAttrs == null) {
      throw new LayerException(
          Reason.InvalidLink,
          "hardlink " + h.path() + " points at " + h.target() + ", which does not exist (yet)");
    }
    if (targetAttrs.isDirectory()) {
      throw new LayerException(
          Reason.InvalidLink, "hardlink " + h.path() + " points at directory " + h.target());
    }
    String rel = place(h.path());
    if (rel.equals(targetRel)) {
      return;
    }
    if (isInherited(targetRel, targetAttrs)) {
      privatize(targetRel);
    }
    if (targetRel.startsWith(rel + "/")) {
      throw new LayerException(
          Reason.InvalidLink,
          "hardlink " + h.path() + " would replace the directory holding its target " + h.target());
    }
    clear(rel);
    Fd targetDir = dir(parentOf(targetRel));
    Fd parent = dir(parentOf(rel));
    try {
      sys.linkat(targetDir, nameOf(targetRel), parent, nameOf(rel));
    } catch (SyscallException e) {
      if (!e.is(Errno.EMLINK)) {
        throw e;
      }
      // The link limit: a copy keeps the content and metadata.
      Inodes.copy(sys, targetDir, nameOf(targetRel), parent, nameOf(rel));
    }
  }

  private void whiteout(Whiteout w) throws LayerException, IOException {
    String parent = resolve(w.path().parent().components(), Walk.LENIENT, null);
    if (parent == null) {
      return; // a whiteout beneath no directory hides nothing
    }
    String rel = join(parent, w.path().name());
    if (layerPaths.contains(rel)) {
      return; // whiteouts hide lower layers only, never what the same layer adds
    }
    FileStat existing = lstat(rel);
    if (existing != null) {
      remove(rel, existing);
    }
  }

  private void opaque(Opaque o) throws LayerException, IOException {
    String rel = resolve(o.path().components(), Walk.CREATE, "opaque directory " + o.path());
    touched(rel);
    opaqueDirs.add(rel, 0);
  }

  /**
   * Removes everything in open directory {@code fd} (at {@code rel}) that the current layer did not
   * make or touch, descending into what it touched through descriptors, never a symlink.
   */
  private void prune(Fd fd, String rel) throws IOException {
    for (String name : sys.list(fd)) {
      String childRel = join(rel, name);
      FileStat attrs = sys.lstatatIfExists(fd, name);
      if (attrs == null) {
        continue;
      }
      if (!layerPaths.contains(childRel)) {
        Trees.removeAt(sys, fd, name);
        forget(childRel);
      } else if (attrs.isDirectory()) {
        try (Fd child = sys.openDirectoryAt(fd, name)) {
          prune(child, childRel);
        }
      }
    }
  }

  /** A bomb of bytes or of empty files stops while the node still has room to work. */
  private void checkRoom(EntryPath at) throws LayerException, IOException {
    entriesSinceCheck = 0;
    bytesSinceCheck = 0;
    var fs = sys.fstatfs(root);
    if (!hasRoom(fs)) {
      throw new LayerException(
          Reason.NoSpace,
          "the cache filesystem is nearly full at entry "
              + at
              + " ("
              + fs.availableBytes()
              + " bytes and "
              + fs.freeFiles()
              + " inodes free)");
    }
  }

  private boolean hasRoom() throws IOException {
    return hasRoom(sys.fstatfs(root));
  }

  private boolean hasRoom(FsStat fs) {
    return fs.availableBytes() >= RESERVE_BYTES
        && (fs.files() == 0 || fs.freeFiles() >= RESERVE_INODES);
  }

  // ---- resolution inside the root

  /** Resolves (creating implied parents) the directory of {@code path} and returns its rel path. */
  private String place(EntryPath path) throws LayerException, IOException {
    String rel = resolveParentThen(path, Walk.CREATE, path);
    checkLength(rel, path);
    touched(rel);
    return rel;
  }

  /**
   * Refuses a path the kernel could not name from {@code /}: the calls here name one component at a
   * time and would manage, but nothing that later reads the root by path (the overlay's users, the
   * node's tools) could.
   */
  private void checkLength(String rel, Object what) throws LayerException {
    if (rootPathBytes + 1 + rel.length() * 3 > MAX_PATH_BYTES
        && rootPathBytes + 1 + rel.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
      throw new LayerException(
          Reason.InvalidName,
          "entry " + what + " has a name too long for the kernel under the root being built");
    }
  }

  private String resolveParentThen(EntryPath path, Walk walk, Object what)
      throws LayerException, IOException {
    if (path.isRoot()) {
      return "";
    }
    String parent = resolve(path.parent().components(), walk, what);
    return parent == null ? null : join(parent, path.name());
  }

  /** What {@link #resolve} does where a directory component is missing or is not a directory. */
  private enum Walk {
    /** Creates a missing one (mode 0755, like tar's implied parents); refuses a non-directory. */
    CREATE,
    /** Returns null for a missing one; refuses a non-directory, naming it. */
    EXISTING,
    /**
     * Returns null for either: nothing lies beneath (umoci writes {@code d/.wh.x} after replacing
     * the directory {@code d} by a file).
     */
    LENIENT
  }

  /**
   * Resolves directory components with chroot semantics and returns the relative path of the real
   * directory they name, or null where {@code walk} says so. {@code what} names the entry in an
   * error (it is only turned into a string then: this runs for every entry).
   */
  private String resolve(List<String> components, Walk walk, Object what)
      throws LayerException, IOException {
    Deque<String> todo = new ArrayDeque<>(components);
    List<String> at = new ArrayList<>();
    int hops = 0;
    while (!todo.isEmpty()) {
      String name = todo.pollFirst();
      if (name.isEmpty() || name.equals(".")) {
        continue;
      }
      if (name.equals("..")) {
        if (!at.isEmpty()) {
          at.removeLast(); // never above the root
        }
        continue;
      }
      at.add(name);
      String rel = String.join("/", at);
      if (realDirs.contains(rel)) {
        continue;
      }
      FileStat attrs = lstat(rel);
      if (attrs == null) {
        if (walk != Walk.CREATE) {
          return null;
        }
        checkLength(rel, what);
        Fd parent = dir(parentOf(rel));
        sys.mkdirat(parent, name, 0755);
        sys.chmodat(parent, name, 0755); // whatever the umask
        touched(rel);
      } else if (attrs.isSymlink()) {
        if (++hops > MAX_SYMLINK_HOPS) {
          throw new LayerException(
              Reason.PathEscape, "too many symlinks resolving " + String.join("/", components));
        }
        String target = sys.readlinkat(dir(parentOf(rel)), name);
        at.removeLast();
        if (target.startsWith("/")) {
          at.clear(); // absolute: from the root being built, not the host's
        }
        List<String> parts = List.of(target.split("/"));
        for (int i = parts.size() - 1; i >= 0; i--) {
          todo.addFirst(parts.get(i));
        }
        continue;
      } else if (!attrs.isDirectory()) {
        if (walk == Walk.LENIENT) {
          return null;
        }
        throw new LayerException(
            Reason.NotADirectory, rel + " is not a directory, but " + what + " lies beneath it");
      }
      rememberDir(rel);
    }
    return String.join("/", at);
  }

  // ---- helpers

  /** Whether {@code rel} is the very inode the committed ancestor holds at the same path. */
  private boolean isInherited(String rel, FileStat attrs) throws IOException {
    if (ancestor == null) {
      return false;
    }
    Fd parent;
    try {
      parent = sys.openDirectoryBeneath(ancestor, rel.contains("/") ? parentOf(rel) : ".");
    } catch (SyscallException e) {
      if (e.is(Errno.ELOOP) || e.is(Errno.ENOTDIR) || e.is(Errno.ENOENT)) {
        return false; // no such directory there: nothing at rel is the ancestor's
      }
      throw e;
    }
    try (parent) {
      FileStat original = sys.lstatatIfExists(parent, nameOf(rel));
      return original != null && attrs.dev() == original.dev() && attrs.ino() == original.ino();
    }
  }

  /** Replaces {@code rel} by a private copy of itself, in one rename. */
  private void privatize(String rel) throws IOException {
    Fd parent = dir(parentOf(rel));
    if (sys.lstatatIfExists(parent, PRIVATE_COPY) != null) {
      sys.unlinkat(parent, PRIVATE_COPY, false);
    }
    Inodes.copy(sys, parent, nameOf(rel), parent, PRIVATE_COPY);
    sys.rename(parent, PRIVATE_COPY, parent, nameOf(rel));
  }

  /** Owner, mode and xattrs of {@code name} of {@code parent}: a directory, FIFO or device. */
  private void setOwnerModeXattrs(EntryPath entry, Fd parent, String name, Meta meta)
      throws LayerException, IOException {
    sys.lchownat(parent, name, meta.uid(), meta.gid());
    sys.chmodat(parent, name, meta.mode()); // after chown, which clears setuid and setgid
    for (Map.Entry<String, byte[]> xattr : meta.xattrs().entrySet()) {
      setXattr(entry, xattr, () -> sys.lsetxattrAt(parent, name, xattr.getKey(), xattr.getValue()));
    }
  }

  private interface XattrCall {
    void run() throws SyscallException;
  }

  /**
   * Sets one xattr of {@code entry}. E2BIG, or ENOSPC while the filesystem has room, means the
   * entry's xattrs exceed what the filesystem keeps per inode (ext4: one block, about 4 KiB in
   * all), which no retry changes; a full disk stays a full disk.
   */
  private void setXattr(EntryPath entry, Map.Entry<String, byte[]> xattr, XattrCall call)
      throws LayerException, IOException {
    try {
      call.run();
    } catch (SyscallException e) {
      if (e.is(Errno.E2BIG) || (e.is(Errno.ENOSPC) && hasRoom())) {
        throw new LayerException(
            Reason.SizeLimit,
            "the xattrs of "
                + entry
                + " do not fit in what the cache filesystem keeps per file (at "
                + xattr.getKey()
                + ", "
                + xattr.getValue().length
                + " bytes)");
      }
      throw e;
    }
  }

  /** Remembers that {@code rel} is a real directory, forgetting them all once they are many. */
  private void rememberDir(String rel) {
    if (realDirs.size() >= REMEMBERED_DIRS) {
      realDirs.clear();
    }
    realDirs.add(rel);
  }

  /** Makes room for a new inode at {@code rel}: whatever is there goes. */
  private void clear(String rel) throws IOException {
    FileStat existing = lstat(rel);
    if (existing != null) {
      remove(rel, existing);
    }
  }

  private void remove(String rel, FileStat attrs) throws IOException {
    if (attrs.isDirectory()) {
      Trees.removeAt(sys, dir(parentOf(rel)), nameOf(rel)); // staging holds no mounts
    } else {
      sys.unlinkat(dir(parentOf(rel)), nameOf(rel), false);
    }
    forget(rel);
  }

  /** Drops what is known of {@code rel} and everything beneath it, which are gone. */
  private void forget(String rel) {
    realDirs.remove(rel);
    realDirs.subSet(rel + "/", rel + "0").clear(); // '0' follows '/': every path beneath rel
    forgetOpenDirectories(rel);
  }

  private void forgetOpenDirectories(String rel) {
    for (Iterator<Map.Entry<String, Fd>> it = openDirs.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Fd> open = it.next();
      String at = open.getKey();
      if (rel.isEmpty() || at.equals(rel) || at.startsWith(rel + "/")) {
        it.remove();
        closeQuietly(open.getValue());
      }
    }
  }

  /**
   * Real directory {@code rel} (a path {@link #resolve} returned), opened beneath the root with no
   * symlink followed; kept open for the entries after it, closed once it or a parent is removed.
   */
  private Fd dir(String rel) throws IOException {
    if (rel.isEmpty()) {
      return root;
    }
    Fd fd = openDirs.get(rel);
    if (fd == null) {
      fd = sys.openDirectoryBeneath(root, rel);
      openDirs.put(rel, fd);
      if (openDirs.size() > OPEN_DIRECTORIES) {
        Iterator<Fd> eldest = openDirs.values().iterator();
        Fd evicted = eldest.next();
        eldest.remove();
        closeQuietly(evicted);
      }
    }
    return fd;
  }

  private static void closeQuietly(Fd fd) {
    try {
      fd.close();
    } catch (SyscallException e) {
      // a directory opened only to look things up: nothing written through it is lost
    }
  }

  private void touched(String rel) throws LayerException {
    for (String r = rel; !r.isEmpty() && layerPaths.add(r); ) {
      int slash = r.lastIndexOf('/');
      r = slash < 0 ? "" : r.substring(0, slash);
    }
  }

  private static String parentOf(String rel) {
    int slash = rel.lastIndexOf('/');
    return slash < 0 ? "" : rel.substring(0, slash);
  }

  private static String nameOf(String rel) {
    return rel.substring(rel.lastIndexOf('/') + 1);
  }

  private static String join(String dir, String name) {
    return dir.isEmpty() ? name : dir + "/" + name;
  }

  /** What is at {@code rel} itself, or null. */
  private FileStat lstat(String rel) throws IOException {
    return sys.lstatatIfExists(dir(parentOf(rel)), nameOf(rel));
  }
}
