package io.strata.overlay;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * The kernel's mount table as read from {@code /proc/self/mountinfo}. Parsing is pure, so every odd
 * line (escaped spaces, optional fields, propagation tags) is tested without root.
 */
public final class MountTable {
  public static final Path SELF = Path.of("/proc/self/mountinfo");

  private final List<MountInfo> mounts;

  private MountTable(List<MountInfo> mounts) {
    this.mounts = Collections.unmodifiableList(mounts); // every caller passes a list of its own
  }

  public static MountTable read() throws IOException {
    return parse(Files.readString(SELF, StandardCharsets.UTF_8));
  }

  public static MountTable parse(String mountinfo) {
    List<MountInfo> mounts = new ArrayList<>();
    for (String line : mountinfo.split("\n")) {
      if (!line.isBlank()) {
        mounts.add(parseLine(line));
      }
    }
    return new MountTable(mounts);
  }

  /**
   * {@code 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue}: six
   * fixed fields, zero or more optional fields, a lone {@code -}, then three more.
   */
  static MountInfo parseLine(String line) {
    String[] fields = line.split(" ");
    int separator = Arrays.asList(fields).indexOf("-");
    if (fields.length < 10 || separator < 6 || fields.length < separator + 4) {
      throw new IllegalArgumentException("malformed mountinfo line: " + line);
    }
    return new MountInfo(
        Integer.parseInt(fields[0]),
        Integer.parseInt(fields[1]),
        fields[2],
        unescape(fields[3]),
        Path.of(unescape(fields[4])),
        fields[5],
        List.of(Arrays.copyOfRange(fields, 6, separator)),
        unescape(fields[separator + 1]),
        unescape(fields[separator + 2]),
        fields[separator + 3]);
  }

  /** The kernel writes space, tab, newline and backslash in paths as {@code \ooo}. */
  static String unescape(String field) {
    if (field.indexOf('\\') < 0) {
      return field;
    }
    StringBuilder out = new StringBuilder(field.length());
    for (int i = 0; i < field.length(); i++) {
      char c = field.charAt(i);
      if (c == '\\' && isOctal(field, i + 1)) {
        out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static boolean isOctal(String s, int from) {
    if (from + 3 > s.length()) {
      return false;
    }
    for (int i = from; i < from + 3; i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '7') {
        return false;
      }
    }
    return true;
  }

  public List<MountInfo> mounts() {
    return mounts;
  }

  /** This table with {@code mount} added on top (replacing a line of the same mount id). */
  public MountTable with(MountInfo mount) {
    List<MountInfo> next = new ArrayList<>(mounts.size() + 1);
    for (MountInfo m : mounts) {
      if (m.mountId() != mount.mountId()) {
        next.add(m);
      }
    }
    next.add(mount);
    return new MountTable(next);
  }

  /** This table without the mount whose id is {@code mountId}. */
  public MountTable without(int mountId) {
    List<MountInfo> next = new ArrayList<>(mounts.size());
    for (MountInfo m : mounts) {
      if (m.mountId() != mountId) {
        next.add(m);
      }
    }
    return new MountTable(next);
  }

  /**
   * The topmost mount exactly at {@code mountPoint}, if any (later lines stack on earlier ones).
   */
  public Optional<MountInfo> at(Path mountPoint) {
    MountInfo found = null;
    for (MountInfo mount : mounts) {
      if (mount.mountPoint().equals(mountPoint)) {
        found = mount;
      }
    }
    return Optional.ofNullable(found);
  }

  /** The mount that contains {@code path}: the topmost one at its longest mounted prefix. */
  public Optional<MountInfo> containing(Path path) {
    for (Path p = path; p != null; p = p.getParent()) {
      Optional<MountInfo> mount = at(p);
      if (mount.isPresent()) {
        return mount;
      }
    }
    return Optional.empty();
  }
}
