package io.strata.tarapply;

import io.strata.layout.Trees;
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
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import jnr.constants.platform.Errno;

/**
 * Applies entry actions to a root being built in private staging. Every name is resolved inside the
 * root with chroot semantics: a symlink met on the way is followed as if the root were {@code /},
 * with {@code ..} stopping at the root, and the final component is never followed. Nothing outside
 * the root can be reached. Nothing is ever written through an existing path: a new entry unlinks
 * what was there and creates a new inode, so inodes shared with the committed ancestor never
 * change.
 */
public final class RootWriter {
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

  private final Path root;
  private final Path ancestor;
  private final Syscalls sys;
  private final Checkpoint checkpoint;
  private final byte[] buffer = new byte[BUFFER];
  private final byte[] zeros = new byte[BUFFER];

  /** Resolved relative paths known to be real directories; dropped when something is removed. */
  private final TreeSet<String> realDirs = new TreeSet<>();

  /** What the current layer made or touched, with every ancestor: opaque dirs spare these. */
  private final Set<String> layerPaths = new HashSet<>();

  private final List<String> opaqueDirs = new ArrayList<>();

  private long bytesSinceCheck;
  private long entriesSinceCheck;
  private final List<Map.Entry<Path, Long>> directoryTimes = new ArrayList<>();

  /**
   * Told every {@link #CHECK_EVERY_BYTES} bytes or {@link #CHECK_EVERY_ENTRIES} entries written,
   * after free space is checked; what it throws stops the build.
   */
  @FunctionalInterface
  public interface Checkpoint {
    void reached() throws IOException;
  }

  /**
   * @param ancestor the committed root this one was hardlink-copied from, or null: inodes shared
   *     with it get a private copy before anything would link more names to them
   * @param checkpoint told as the root grows (the layer store starts writing it back to disk)
   */
  public RootWriter(Path root, Path ancestor, Syscalls sys, Checkpoint checkpoint) {
    this.root = root;
    this.ancestor = ancestor;
    this.sys = sys;
    this.checkpoint = checkpoint;
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
    return (e instanceof SyscallException s && s.is(Errno.ENAMETOOLONG))
        || (e instanceof FileSystemException f && "File name too long".equals(f.getReason()));
  }

  /** Opaque directories drop lower content; then directory times, now that contents are done. */
  void endLayer() throws IOException {
    for (String dir : opaqueDirs) {
      prune(dir);
    }
    for (Map.Entry<Path, Long> time : directoryTimes) {
      sys.lutimes(time.getKey(), time.getValue());
    }
  }

  // ---- entries

  private void makeDirectory(MakeDirectory d) throws LayerException, IOException {
    String rel = d.path().isRoot() ? "" : place(d.path());
    Path path = path(rel);
    FileStat existing = lstat(path);
    if (existing != null && !existing.isDirectory()) {
      remove(rel, path, existing);
      existing = null;
    }
    if (existing == null) {
      Files.createDirectory(path);
    }
    realDirs.add(rel);
    touched(rel);
    setOwnerModeXattrs(d.path(), path, d.meta());
    directoryTimes.add(Map.entry(path, d.meta().mtimeNanos()));
  }

  /**
   * A new inode for a file: created exclusively (what was there goes first), its data written, then
   * owner, mode, xattrs and times set through the open descriptor, so the path is walked once.
   */
  private void writeFile(WriteFile f, InputStream data) throws LayerException, IOException {
    String rel = place(f.path());
    Path path = path(rel);
    Fd created = sys.createNew(path, 0600);
    if (created == null) {
      clear(rel, path);
      created = sys.createNew(path, 0600);
      if (created == null) {
        throw new IOException(path + " reappeared while being replaced");
      }
    }
    try (Fd out = created) {
      long written = copySparse(data, out);
      bytesSinceCheck += written;
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

  private void makeSymlink(MakeSymlink l) throws LayerException, IOException {
    String rel = place(l.path());
    Path path = path(rel);
    if (!sys.symlinkIfAbsent(l.target(), path)) {
      clear(rel, path);
      sys.symlink(l.target(), path);
    }
    sys.lchown(path, l.meta().uid(), l.meta().gid());
    sys.lutimes(path, l.meta().mtimeNanos());
  }

  private void makeNode(MakeNode n) throws LayerException, IOException {
    String rel = place(n.path());
    Path path = path(rel);
    clear(rel, path);
    sys.mknod(path, n.type() | 0600, n.major(), n.minor());
    setOwnerModeXattrs(n.path(), path, n.meta());
    sys.lutimes(path, n.meta().mtimeNanos());
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
    Path target = targetRel == null ? null : path(targetRel);
    FileStat targetAttrs = target == null ? null : lstat(target);
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
      privatize(target);
    }
    Path path = path(rel);
    clear(rel, path);
    try {
      Files.createLink(path, target);
    } catch (FileSystemException e) {
      if (e.getMessage() == null || !e.getMessage().contains("Too many links")) {
        throw e;
      }
      Inodes.copy(sys, target, path); // the link limit: a copy keeps the content and metadata
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
    Path path = path(rel);
    FileStat existing = lstat(path);
    if (existing != null) {
      remove(rel, path, existing);
    }
  }

  private void opaque(Opaque o) throws LayerException, IOException {
    String rel = resolve(o.path().components(), Walk.CREATE, "opaque directory " + o.path());
    touched(rel);
    opaqueDirs.add(rel);
  }

  /** Removes everything under {@code dir} the current layer did not make or touch. */
  private void prune(String dir) throws IOException {
    Path path = path(dir);
    FileStat attrs = lstat(path);
    if (attrs == null || !attrs.isDirectory()) {
      return;
    }
    List<Path> children;
    try (var list = Files.list(path)) {
      children = list.toList();
    }
    for (Path child : children) {
      String rel = join(dir, child.getFileName().toString());
      FileStat childAttrs = lstat(child);
      if (childAttrs == null) {
        continue;
      }
      if (!layerPaths.contains(rel)) {
        remove(rel, child, childAttrs);
      } else if (childAttrs.isDirectory()) {
        prune(rel);
      }
    }
  }

  /** A bomb of bytes or of empty files stops while the node still has room to work. */
  private void checkRoom(EntryPath at) throws LayerException, IOException {
    entriesSinceCheck = 0;
    bytesSinceCheck = 0;
    var fs = sys.statfs(root);
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
    return hasRoom(sys.statfs(root));
  }

  private boolean hasRoom(FsStat fs) {
    return fs.availableBytes() >= RESERVE_BYTES
        && (fs.files() == 0 || fs.freeFiles() >= RESERVE_INODES);
  }

  // ---- resolution inside the root

  /** Resolves (creating implied parents) the directory of {@code path} and returns its rel path. */
  private String place(EntryPath path) throws LayerException, IOException {
    String rel = resolveParentThen(path, Walk.CREATE, path);
    touched(rel);
    return rel;
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
      Path path = path(rel);
      FileStat attrs = lstat(path);
      if (attrs == null) {
        if (walk != Walk.CREATE) {
          return null;
        }
        Files.createDirectory(path);
        sys.chmod(path, 0755);
        touched(rel);
      } else if (attrs.isSymlink()) {
        if (++hops > MAX_SYMLINK_HOPS) {
          throw new LayerException(
              Reason.PathEscape, "too many symlinks resolving " + String.join("/", components));
        }
        String target = sys.readlink(path);
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
      realDirs.add(rel);
    }
    return String.join("/", at);
  }

  // ---- helpers

  private boolean isInherited(String rel, FileStat attrs) throws IOException {
    if (ancestor == null) {
      return false;
    }
    FileStat original = lstat(ancestor.resolve(rel));
    return original != null && attrs.dev() == original.dev() && attrs.ino() == original.ino();
  }

  /** Replaces {@code path} by a private copy of itself, in one rename. */
  private void privatize(Path path) throws IOException {
    Path copy = path.resolveSibling(".strata-private-" + path.getFileName());
    Files.deleteIfExists(copy);
    Inodes.copy(sys, path, copy);
    Files.move(copy, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private void setOwnerModeXattrs(EntryPath entry, Path path, Meta meta)
      throws LayerException, IOException {
    sys.lchown(path, meta.uid(), meta.gid());
    sys.chmod(path, meta.mode()); // after chown, which clears setuid and setgid
    for (Map.Entry<String, byte[]> xattr : meta.xattrs().entrySet()) {
      setXattr(entry, xattr, () -> sys.lsetxattr(path, xattr.getKey(), xattr.getValue()));
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

  /** Makes room for a new inode at {@code path}: whatever is there goes. */
  private void clear(String rel, Path path) throws IOException {
    FileStat existing = lstat(path);
    if (existing != null) {
      remove(rel, path, existing);
    }
  }

  private void remove(String rel, Path path, FileStat attrs) throws IOException {
    if (attrs.isDirectory()) {
      Trees.deleteUnmounted(path); // staging is private: nothing can be mounted in it
    } else {
      Files.delete(path);
    }
    realDirs.remove(rel);
    realDirs.subSet(rel + "/", rel + "0").clear(); // '0' follows '/': every path beneath rel
  }

  private void touched(String rel) {
    for (String r = rel; !r.isEmpty() && layerPaths.add(r); ) {
      int slash = r.lastIndexOf('/');
      r = slash < 0 ? "" : r.substring(0, slash);
    }
  }

  private Path path(String rel) {
    return rel.isEmpty() ? root : root.resolve(rel);
  }

  private static String join(String dir, String name) {
    return dir.isEmpty() ? name : dir + "/" + name;
  }

  private FileStat lstat(Path path) throws IOException {
    return sys.lstatIfExists(path);
  }
}
