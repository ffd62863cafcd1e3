package io.strata.layout;

import io.strata.overlay.MountTable;
import io.strata.sys.Errno;
import io.strata.sys.Fd;
import io.strata.sys.FileStat;
import io.strata.sys.SyscallException;
import io.strata.sys.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/** Removing trees Strata made, never through a link and never under something mounted. */
public final class Trees {
  private Trees() {}

  /**
   * Deletes {@code root} and everything beneath it without following symlinks. Refuses, touching
   * nothing, when anything at or beneath {@code root} is a mountpoint: a recursive delete must
   * never reach into a mounted filesystem.
   */
  public static void delete(Path root) throws IOException {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (MountTable.read().mounts().stream().anyMatch(m -> m.mountPoint().startsWith(root))) {
      throw new IOException("refusing to delete " + root + ": something beneath it is mounted");
    }
    deleteUnmounted(root);
  }

  /**
   * Deletes a tree known to hold no mountpoint (a private staging build), without following
   * symlinks and without reading the mount table: {@link #removeAt} beneath {@code root}'s parent.
   */
  public static void deleteUnmounted(Path root) throws IOException {
    Syscalls sys = Syscalls.get();
    Fd parent;
    try {
      parent = sys.openDirectoryHandle(root.getParent());
    } catch (SyscallException e) {
      if (e.is(Errno.ENOENT)) {
        return;
      }
      throw e;
    }
    try (parent) {
      removeAt(sys, parent, root.getFileName().toString());
    }
  }

  /** How many directories a removal holds open at once; deeper ones are moved up first. */
  private static final int MAX_OPEN = 64;

  /**
   * Removes {@code name} of {@code dir} and, if it is a directory, everything beneath it. Every
   * step goes through a descriptor of the directory it is in, so no symlink inside the tree,
   * however and whenever it got there, is ever followed, and the removal never leaves the tree; a
   * directory that is a mountpoint stops it with an error (its descent refuses to cross a mount).
   * Without recursion: directories deeper than {@value #MAX_OPEN} are first renamed to the top of
   * the tree, so any depth is removed with a bounded stack and bounded descriptors. What vanishes
   * meanwhile (another removal of the same tree, such as a start-up emptying trash) is gone, as
   * wanted: not an error.
   */
  public static void removeAt(Syscalls sys, Fd dir, String name) throws IOException {
    FileStat top = sys.lstatatIfExists(dir, name);
    if (top == null) {
      return;
    }
    if (!top.isDirectory()) {
      unlinkIfThere(sys, dir, name, false);
      return;
    }
    Deque<Level> open = new ArrayDeque<>();
    try {
      Level first = Level.open(sys, dir, name);
      if (first == null) {
        return;
      }
      open.push(first);
      long moved = 0;
      while (!open.isEmpty()) {
        Level level = open.peek();
        if (level.next < level.names.size()) {
          String child = level.names.get(level.next++);
          FileStat attrs = sys.lstatatIfExists(level.fd, child);
          if (attrs == null) {
            continue;
          }
          if (!attrs.isDirectory()) {
            unlinkIfThere(sys, level.fd, child, false);
          } else if (open.size() < MAX_OPEN) {
            Level below = Level.open(sys, level.fd, child);
            if (below != null) {
              open.push(below);
            }
          } else {
            open.getLast().names.add(moveUp(sys, level.fd, child, open.getLast().fd, moved++));
          }
          continue;
        }
        open.pop().fd.close();
        Fd parent = open.isEmpty() ? dir : open.peek().fd;
        try {
          unlinkIfThere(sys, parent, level.name, true);
        } catch (SyscallException e) {
          if (!e.is(Errno.ENOTEMPTY) || ++level.relisted > 3) {
            throw e;
          }
          Level again = Level.open(sys, parent, level.name); // something was added meanwhile
          if (again != null) {
            again.relisted = level.relisted;
            open.push(again);
          }
        }
      }
    } finally {
      for (Level level : open) {
        level.fd.close();
      }
    }
  }

  /** One open directory of a removal: its descriptor, its name in its parent, what it held. */
  private static final class Level {
    final Fd fd;
    final String name;
    final List<String> names;
    int next;
    int relisted;

    private Level(Fd fd, String name, List<String> names) {
      this.fd = fd;
      this.name = name;
      this.names = names;
    }

    /** Null when {@code name} is no longer there, or no longer a directory (then it is gone). */
    static Level open(Syscalls sys, Fd parent, String name) throws IOException {
      Fd fd;
      try {
        fd = sys.openDirectoryBeneath(parent, name);
      } catch (SyscallException e) {
        if (e.is(Errno.ENOENT)) {
          return null;
        }
        if (e.is(Errno.ELOOP) || e.is(Errno.ENOTDIR)) {
          unlinkIfThere(sys, parent, name, false); // replaced meanwhile: removed as what it is
          return null;
        }
        if (e.is(Errno.EXDEV)) {
          throw new IOException(
              "refusing to remove " + parent.describe() + "/" + name + ": it is a mountpoint", e);
        }
        throw e;
      }
      try {
        return new Level(fd, name, new ArrayList<>(sys.list(fd)));
      } catch (SyscallException e) {
        fd.close();
        throw e;
      }
    }
  }

  /** Renames directory {@code name} of {@code dir} into {@code top} under a name no entry has. */
  private static String moveUp(Syscalls sys, Fd dir, String name, Fd top, long n)
      throws SyscallException {
    for (long i = n; ; i++) {
      String moved = "\u0001deep-" + i; // RENAME_NOREPLACE: a name taken is skipped
      try {
        sys.renameNoReplace(dir, name, top, moved);
        return moved;
      } catch (SyscallException e) {
        if (!e.is(Errno.EEXIST)) {
          throw e;
        }
      }
    }
  }

  private static void unlinkIfThere(Syscalls sys, Fd dir, String name, boolean directory)
      throws SyscallException {
    try {
      sys.unlinkat(dir, name, directory);
    } catch (SyscallException e) {
      if (!e.is(Errno.ENOENT)) {
        throw e;
      }
    }
  }

  /**
   * Moves {@code path} into {@code trash} with one rename, then deletes it there. A crash midway
   * leaves the remains in {@code trash}, which start-up empties; never a half-deleted original.
   */
  public static void deleteViaTrash(Path path, Path trash) throws IOException {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.createDirectories(trash);
    Path entry = trash.resolve(path.getFileName() + "-" + System.nanoTime());
    Files.move(path, entry, StandardCopyOption.ATOMIC_MOVE);
    delete(entry);
  }
}
