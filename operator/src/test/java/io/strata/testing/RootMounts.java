package io.strata.testing;

import io.strata.overlay.MountInfo;
import io.strata.overlay.MountTable;
import io.strata.sys.MountOption;
import io.strata.sys.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * A scratch node for root-only mount tests: {@code <tmp>/mnt} made a shared mount the way DESIGN.md
 * section 3 prepares a mount base, {@code <tmp>/state}, {@code <tmp>/lower}; and a teardown that
 * unmounts whatever a test left beneath {@code <tmp>}.
 */
public final class RootMounts {
  public final Path root;
  public final Path mountBase;
  public final Path stateDir;
  public final Path lower;

  private RootMounts(Path root) {
    this.root = root;
    this.mountBase = root.resolve("mnt");
    this.stateDir = root.resolve("state");
    this.lower = root.resolve("lower");
  }

  /** Skips the calling test unless root (CI runs as root), then prepares the scratch node. */
  public static RootMounts prepare(Path tmp) throws IOException {
    Tools.requireRoot("real mounts need root");
    RootMounts node = new RootMounts(tmp.toRealPath());
    Files.createDirectories(node.mountBase);
    Files.createDirectories(node.stateDir);
    Files.createDirectories(node.lower);
    Syscalls sys = Syscalls.get();
    String base = node.mountBase.toString();
    sys.mount(base, base, "", Set.of(MountOption.BIND), null);
    sys.mount("", base, "", Set.of(MountOption.PRIVATE), null);
    sys.mount("", base, "", Set.of(MountOption.SHARED), null);
    return node;
  }

  public static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  /** Mounts beneath this scratch node, deepest first. */
  public List<MountInfo> mountsBeneath() throws IOException {
    return MountTable.read().mounts().stream()
        .filter(m -> m.mountPoint().startsWith(root))
        .sorted(Comparator.comparingInt((MountInfo m) -> m.mountPoint().getNameCount()).reversed())
        .toList();
  }

  /** Detaches everything a test left mounted, so the temp dir can be deleted. */
  public void cleanUp() throws IOException {
    for (int pass = 0; pass < 5 && !mountsBeneath().isEmpty(); pass++) {
      for (MountInfo m : mountsBeneath()) {
        try {
          // Lazily: a test may leave a busy mount. The agent never detaches; this cleans up.
          Tools.run(Path.of("/"), "umount", "-l", m.mountPoint().toString());
        } catch (IOException e) {
          // already gone with its parent
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }
}
