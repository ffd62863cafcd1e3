package io.strata.layout;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Publishing a finished file under its name so that a power cut leaves the old file or the whole
 * new one. A rename alone is not enough: ext4 commits the new name with its journal within seconds,
 * while the data, allocated late, may reach the disk only half a minute later, and after a crash
 * the name would hold an empty file.
 */
public final class Durable {
  private Durable() {}

  /** Syncs {@code file}, renames it over {@code target} and syncs the rename. */
  public static void rename(Path file, Path target) throws IOException {
    try (FileChannel data = FileChannel.open(file, StandardOpenOption.WRITE)) {
      data.force(true);
    } catch (IOException e) {
      throw named(file, e);
    }
    Files.move(file, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel dir = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
      dir.force(true);
    } catch (IOException e) {
      throw named(target.getParent(), e);
    }
  }

  /** A channel's write or sync failure (EIO) says nothing of the file; Files' failures do. */
  static IOException named(Path path, IOException e) {
    return e instanceof FileSystemException ? e : new IOException(path + ": " + e.getMessage(), e);
  }
}
