package io.strata.overlay;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Which processes keep a mount busy: their cwd, root or an open file lies beneath it. */
final class Holders {
  private static final int MAX = 10;

  private Holders() {}

  static List<String> of(Path mountPoint) {
    List<String> holders = new ArrayList<>();
    try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path proc : procs) {
        if (holders.size() >= MAX) {
          break;
        }
        if (holds(proc, mountPoint)) {
          holders.add("pid " + proc.getFileName() + " (" + comm(proc) + ")");
        }
      }
    } catch (IOException e) {
      holders.add("unknown: " + e.getMessage());
    }
    return holders;
  }

  private static boolean holds(Path proc, Path mountPoint) {
    if (under(proc.resolve("cwd"), mountPoint) || under(proc.resolve("root"), mountPoint)) {
      return true;
    }
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
      for (Path fd : fds) {
        if (under(fd, mountPoint)) {
          return true;
        }
      }
    } catch (IOException | SecurityException e) {
      // the process exited, or is not ours to read
    }
    return false;
  }

  private static boolean under(Path link, Path mountPoint) {
    try {
      return Path.of(Files.readSymbolicLink(link).toString()).startsWith(mountPoint);
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return false;
    }
  }

  private static String comm(Path proc) {
    try {
      return Files.readString(proc.resolve("comm")).strip();
    } catch (IOException e) {
      return "?";
    }
  }
}
