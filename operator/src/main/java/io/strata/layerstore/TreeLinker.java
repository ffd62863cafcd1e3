package io.strata.layerstore;

import io.strata.layout.Inodes;
import io.strata.sys.Errno;
import io.strata.sys.Fd;
import io.strata.sys.FileStat;
import io.strata.sys.SyscallException;
import io.strata.sys.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * The hardlink copy that starts a child root (Docker's first overlay driver did the same): every
 * directory is created anew with its owner, mode, xattrs and time; every other inode gets one more
 * name, so a child shares file data with its parent and costs only directories. A file at the
 * filesystem's link limit is copied instead. Both trees are walked through directory descriptors,
 * one name at a time, never following a symlink.
 */
public final class TreeLinker {
  private final Syscalls sys;
  private long links;
  private long copies;

  public TreeLinker(Syscalls sys) {
    this.sys = sys;
  }

  /** Copies {@code from} (a committed root) to {@code to}, which must not exist. */
  public void copy(Path from, Path to) throws IOException {
    Files.createDirectory(to);
    Deque<Level> open = new ArrayDeque<>();
    try {
      open.push(Level.open(sys, sys.openDirectory(from), () -> sys.openDirectory(to), ""));
      Level root = open.peek();
      Inodes.copyMetadataExceptTimes(sys, root.from, ".", root.to, ".", root.attrs);
      while (!open.isEmpty()) {
        Level level = open.peek();
        if (level.next == level.names.size()) {
          open.pop();
          level.finish(sys, open.peek());
          continue;
        }
        String name = level.names.get(level.next++);
        FileStat attrs = sys.lstatat(level.from, name);
        if (attrs.isDirectory()) {
          sys.mkdirat(level.to, name, 0700);
          Inodes.copyMetadataExceptTimes(sys, level.from, name, level.to, name, attrs);
          open.push(
              Level.open(
                  sys,
                  sys.openDirectoryAt(level.from, name),
                  () -> sys.openDirectoryAt(level.to, name),
                  name));
        } else {
          link(level.from, level.to, name);
        }
      }
    } finally {
      for (Level level : open) {
        level.close();
      }
    }
  }

  /** A directory being copied: both descriptors, its name, its attributes, its names left. */
  private static final class Level {
    final Fd from;
    final Fd to;
    final String name;
    final FileStat attrs;
    final List<String> names;
    int next;

    private Level(Fd from, Fd to, String name, FileStat attrs, List<String> names) {
      this.from = from;
      this.to = to;
      this.name = name;
      this.attrs = attrs;
      this.names = names;
    }

    interface Opener {
      Fd open() throws IOException;
    }

    /** Takes {@code from} over, closing it if what else a level needs cannot be had. */
    static Level open(Syscalls sys, Fd from, Opener to, String name) throws IOException {
      try {
        FileStat attrs = sys.fstat(from);
        List<String> names = sys.list(from);
        return new Level(from, to.open(), name, attrs, names);
      } catch (IOException e) {
        from.close();
        throw e;
      }
    }

    /** Sets the copy's time, now that its contents are done, and closes both sides. */
    void finish(Syscalls sys, Level parent) throws IOException {
      try {
        long time = attrs.mtimeSeconds() * 1_000_000_000L + attrs.mtimeNanos();
        if (parent == null) {
          sys.futimes(to, time);
        } else {
          sys.lutimesat(parent.to, name, time);
        }
      } finally {
        close();
      }
    }

    void close() throws IOException {
      try {
        from.close();
      } finally {
        to.close();
      }
    }
  }

  private void link(Fd from, Fd to, String name) throws IOException {
    try {
      sys.linkat(from, name, to, name);
      links++;
    } catch (SyscallException e) {
      if (!e.is(Errno.EMLINK)) {
        throw e;
      }
      Inodes.copy(sys, from, name, to, name);
      copies++;
    }
  }

  public long links() {
    return links;
  }

  /** Files copied because they were at the link limit. */
  public long copies() {
    return copies;
  }
}
