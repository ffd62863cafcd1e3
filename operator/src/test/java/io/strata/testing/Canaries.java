package io.strata.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.sys.FileStat;
import io.strata.sys.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Trees that must not change, compared on everything an escape could touch: each path's type,
 * inode, mode, owner, size, link count, content, link target, xattrs, mtime and ctime (which the
 * kernel moves on any change to the inode, a chmod or utimes to the same value included), for
 * directories as for files. Plant some with {@link #plant}, or watch trees a test made with {@link
 * #watch}; {@link #assertUntouched} compares them with what they were.
 */
public final class Canaries {
  private final Map<Path, Map<String, String>> before = new LinkedHashMap<>();
  private final Map<Path, Boolean> shared = new LinkedHashMap<>();

  /**
   * Makes a canary tree at {@code dir}: a file with an xattr, a file with two names, a directory
   * holding a file, and an empty directory; then watches it.
   */
  public Path plant(Path dir) throws IOException {
    Syscalls sys = Syscalls.get();
    Files.createDirectories(dir.resolve("sub"));
    Files.createDirectories(dir.resolve("empty"));
    Path secret = Files.writeString(dir.resolve("secret"), "do not touch");
    sys.chmod(secret, 0600);
    sys.lsetxattr(secret, "user.canary", "yes".getBytes(StandardCharsets.UTF_8));
    Files.writeString(dir.resolve("sub/inner"), "do not touch either");
    Files.createLink(dir.resolve("sub/linked"), secret);
    watch(dir);
    return dir;
  }

  /** Records {@code tree} as it is now. */
  public Canaries watch(Path tree) throws IOException {
    before.put(tree, describe(tree, false));
    shared.put(tree, false);
    return this;
  }

  /**
   * Records a committed root, whose files later builds link to: their link counts and ctimes are
   * left out, since a hardlink copy changes both by design; everything else, directories whole.
   */
  public Canaries watchCommittedRoot(Path tree) throws IOException {
    before.put(tree, describe(tree, true));
    shared.put(tree, true);
    return this;
  }

  public void assertUntouched() throws IOException {
    for (Map.Entry<Path, Map<String, String>> tree : before.entrySet()) {
      assertThat(describe(tree.getKey(), shared.get(tree.getKey())))
          .as("everything in %s, as it was", tree.getKey())
          .isEqualTo(tree.getValue());
    }
  }

  private static Map<String, String> describe(Path tree, boolean linkedFrom) throws IOException {
    Syscalls sys = Syscalls.get();
    Map<String, String> entries = new TreeMap<>();
    if (!Files.exists(tree, LinkOption.NOFOLLOW_LINKS)) {
      return entries;
    }
    List<Path> paths;
    try (Stream<Path> walk = Files.walk(tree)) {
      paths = new ArrayList<>(walk.toList());
    }
    for (Path path : paths) {
      FileStat s = sys.lstat(path);
      StringBuilder d =
          new StringBuilder(
              String.format(
                  "type=%o ino=%d mode=%04o owner=%d:%d size=%d mtime=%d.%d",
                  s.type(),
                  s.ino(),
                  s.mode() & 07777,
                  s.uid(),
                  s.gid(),
                  s.size(),
                  s.mtimeSeconds(),
                  s.mtimeNanos()));
      if (!linkedFrom || s.isDirectory()) {
        d.append(
            String.format(" nlink=%d ctime=%d.%d", s.nlink(), s.ctimeSeconds(), s.ctimeNanos()));
      }
      if (s.isRegular()) {
        d.append(" sha256=").append(TreeSnapshot.sha256(path));
      } else if (s.isSymlink()) {
        d.append(" target=").append(sys.readlink(path));
      }
      for (String name : new TreeSet<>(sys.llistxattr(path))) {
        d.append(" xattr:")
            .append(name)
            .append('=')
            .append(HexFormat.of().formatHex(sys.lgetxattr(path, name)));
      }
      String rel = tree.relativize(path).toString();
      entries.put(rel.isEmpty() ? "." : rel, d.toString());
    }
    return entries;
  }
}
