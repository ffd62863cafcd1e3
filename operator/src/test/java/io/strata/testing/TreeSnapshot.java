package io.strata.testing;

import io.strata.sys.FileStat;
import io.strata.sys.Syscalls;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Everything two roots are compared on, per path: type, mode, owner, size, content hash, link
 * target, device numbers, xattrs, and the mtime of non-directories; plus which paths share an inode
 * (hardlink groups). Not nlink or ctime: a hardlink copy changes those by design.
 */
public record TreeSnapshot(Map<String, String> entries, List<List<String>> hardlinkGroups) {

  public static TreeSnapshot of(Path root) throws IOException {
    Syscalls sys = Syscalls.get();
    Map<String, String> entries = new TreeMap<>();
    Map<Long, List<String>> byInode = new TreeMap<>();
    List<Path> paths;
    try (Stream<Path> walk = Files.walk(root)) {
      paths = walk.toList();
    }
    for (Path path : paths) {
      String rel = root.relativize(path).toString();
      FileStat stat = sys.lstat(path);
      StringBuilder d = new StringBuilder();
      d.append(
          String.format(
              "type=%o mode=%04o owner=%d:%d",
              stat.type(), stat.mode() & 07777, stat.uid(), stat.gid()));
      if (stat.isRegular()) {
        d.append(" size=").append(stat.size()).append(" sha256=").append(sha256(path));
        byInode.computeIfAbsent(stat.ino(), k -> new ArrayList<>()).add(rel);
      } else if (stat.isSymlink()) {
        d.append(" target=").append(sys.readlink(path));
      } else if (!stat.isDirectory()) {
        d.append(" dev=").append(stat.major()).append(',').append(stat.minor());
      }
      if (!stat.isDirectory()) {
        d.append(" mtime=").append(stat.mtimeSeconds()).append('.').append(stat.mtimeNanos());
      }
      for (String name : new java.util.TreeSet<>(sys.llistxattr(path))) {
        d.append(" xattr:")
            .append(name)
            .append('=')
            .append(HexFormat.of().formatHex(sys.lgetxattr(path, name)));
      }
      entries.put(rel.isEmpty() ? "." : rel, d.toString());
    }
    List<List<String>> groups = new ArrayList<>();
    for (List<String> group : byInode.values()) {
      if (group.size() > 1) {
        groups.add(group.stream().sorted().toList());
      }
    }
    groups.sort((a, b) -> a.getFirst().compareTo(b.getFirst()));
    return new TreeSnapshot(entries, groups);
  }

  /** The SHA-256 of a regular file's content, in hex; never through a symlink. */
  static String sha256(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[65536];
      for (int n; (n = in.read(buf)) > 0; ) {
        sha.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(sha.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
