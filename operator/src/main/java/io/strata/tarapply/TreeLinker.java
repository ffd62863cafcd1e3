package io.strata.tarapply;

import io.strata.sys.FileStat;
import io.strata.sys.Syscalls;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The hardlink copy that starts a child root (Docker's first overlay driver did the same): every
 * directory is created anew with its owner, mode, xattrs and time; every other inode gets one more
 * name, so a child shares file data with its parent and costs only directories. A file at the
 * filesystem's link limit is copied instead.
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
    Deque<Long> times = new ArrayDeque<>();
    Files.walkFileTree(
        from,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
              throws IOException {
            Path target = to.resolve(from.relativize(dir).toString());
            Files.createDirectory(target);
            FileStat stat = sys.lstat(dir);
            times.push(stat.mtimeSeconds() * 1_000_000_000L + stat.mtimeNanos());
            Inodes.copyMetadataExceptTimes(sys, dir, target, stat);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Path target = to.resolve(from.relativize(file).toString());
            try {
              Files.createLink(target, file);
              links++;
            } catch (FileSystemException e) {
              if (e.getMessage() == null || !e.getMessage().contains("Too many links")) {
                throw e;
              }
              Inodes.copy(sys, file, target);
              copies++;
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
            if (e != null) {
              throw e;
            }
            sys.lutimes(to.resolve(from.relativize(dir).toString()), times.pop());
            return FileVisitResult.CONTINUE;
          }
        });
  }

  public long links() {
    return links;
  }

  /** Files copied because they were at the link limit. */
  public long copies() {
    return copies;
  }
}
