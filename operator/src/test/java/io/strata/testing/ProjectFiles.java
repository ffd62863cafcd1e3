package io.strata.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Files of the project the tests read: the same ones users apply. */
public final class ProjectFiles {
  private ProjectFiles() {}

  /** The repository root (Surefire passes it; from an IDE, the parent of the working dir). */
  public static Path root() {
    String fromBuild = System.getProperty("strata.projectRoot");
    Path root = fromBuild != null ? Path.of(fromBuild) : Path.of("").toAbsolutePath().getParent();
    if (!Files.isDirectory(root.resolve("crds"))) {
      throw new IllegalStateException("cannot find the project root (no crds/ in " + root + ")");
    }
    return root;
  }

  public static Path crds() {
    return root().resolve("crds");
  }

  public static Path examples() {
    return root().resolve("examples");
  }
}
