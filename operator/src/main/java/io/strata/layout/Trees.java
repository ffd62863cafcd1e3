package io.strata.layout;

import io.strata.overlay.MountTable;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;

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
   * symlinks and without reading the mount table. What vanishes meanwhile (another removal of the
   * same tree, such as a start-up emptying trash) is gone, as wanted: not an error.
   */
  public static void deleteUnmounted(Path root) throws IOException {
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
            if (e instanceof NoSuchFileException) {
              return FileVisitResult.CONTINUE;
            }
            throw e;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
            if (e != null && !(e instanceof NoSuchFileException)) {
              throw e;
            }
            Files.deleteIfExists(dir);
            return FileVisitResult.CONTINUE;
          }
        });
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
