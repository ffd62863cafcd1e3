package io.strata.tarapply;

import io.strata.sys.FileStat;
import io.strata.tarapply.EntryAction.MakeDirectory;
import io.strata.tarapply.EntryAction.MakeHardlink;
import io.strata.tarapply.EntryAction.MakeNode;
import io.strata.tarapply.EntryAction.MakeSymlink;
import io.strata.tarapply.EntryAction.Meta;
import io.strata.tarapply.EntryAction.Opaque;
import io.strata.tarapply.EntryAction.Whiteout;
import io.strata.tarapply.EntryAction.WriteFile;
import io.strata.tarapply.LayerException.Reason;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveStructSparse;

/**
 * Turns one tar entry (as Commons Compress read it, plus the raw PAX records {@link TarGuard} kept)
 * into an {@link EntryAction}, or refuses it. Pure: every rule tests without a filesystem.
 */
public final class EntryPlanner {
  static final String WHITEOUT_PREFIX = ".wh.";
  static final String OPAQUE = ".wh..wh..opq";
  private static final long MAX_ID = 0xFFFF_FFFEL; // (uid_t) -1 means "no change" to chown

  /** 2038-01-19: every filesystem a root may live on can hold it (ext4 with small inodes, xfs). */
  static final long MAX_SECONDS = Integer.MAX_VALUE;

  /** XATTR_NAME_MAX: longer names fail setxattr with ERANGE. */
  static final int MAX_XATTR_NAME_BYTES = 255;

  /** The kernel's device numbers: 12 bits of major, 20 of minor; mknod refuses more. */
  static final int MAX_DEVICE_MAJOR = (1 << 12) - 1;

  static final int MAX_DEVICE_MINOR = (1 << 20) - 1;

  private final Limits limits;

  public EntryPlanner(Limits limits) {
    this.limits = limits;
  }

  EntryAction plan(TarArchiveEntry entry, Map<String, byte[]> pax) throws LayerException {
    byte[] paxPath = pax.get("path");
    if (paxPath != null && !new String(paxPath, StandardCharsets.UTF_8).equals(entry.getName())) {
      throw new LayerException(
          Reason.AmbiguousHeader,
          "the tar reader's name for " + entry.getName() + " is not the PAX path");
    }
    EntryPath path = EntryPath.parse(entry.getName(), limits);
    for (int i = 0; i < path.components().size() - 1; i++) {
      if (path.components().get(i).startsWith(WHITEOUT_PREFIX)) {
        throw new LayerException(
            Reason.InvalidWhiteout, "entry " + path + " has a whiteout name as a directory");
      }
    }
    if (!path.isRoot() && path.name().startsWith(WHITEOUT_PREFIX)) {
      return whiteout(entry, path);
    }
    char type = (char) entry.getLinkFlag();
    if (path.isRoot() && type != '5') {
      throw new LayerException(
          Reason.PathEscape,
          "entry " + entry.getName() + " would replace the root with a non-directory");
    }
    // By the type flag alone: Commons Compress also calls any name ending in '/' a directory,
    // which other readers do not; a regular-file flag on such a name is refused as ambiguous.
    return switch (type) {
      case '5' -> new MakeDirectory(path, meta(entry, pax, path));
      case '\0' ->
          entry.getName().endsWith("/")
              ? new MakeDirectory(path, meta(entry, pax, path)) // old tars: every reader agrees
              : regularFile(entry, pax, path);
      case '0', '7', 'S' -> {
        if (entry.getName().endsWith("/")) {
          throw new LayerException(
              Reason.AmbiguousHeader,
              "regular file " + entry.getName() + " is named like a directory");
        }
        yield regularFile(entry, pax, path);
      }
      case '2' -> new MakeSymlink(path, meta(entry, pax, path), linkTarget(entry, path));
      case '1' -> new MakeHardlink(path, EntryPath.parse(entry.getLinkName(), limits));
      case '6' -> new MakeNode(path, meta(entry, pax, path), FileStat.S_IFIFO, 0, 0);
      case '3', '4' -> device(entry, pax, path);
      default ->
          throw new LayerException(
              Reason.InvalidHeader,
              "entry " + path + " has a type Strata does not unpack ('" + type + "')");
    };
  }

  private EntryAction regularFile(TarArchiveEntry entry, Map<String, byte[]> pax, EntryPath path)
      throws LayerException {
    if (!entry.isSparse()) {
      return new WriteFile(path, meta(entry, pax, path), entry.getRealSize());
    }
    return new WriteFile(path, meta(entry, pax, path), entry.getRealSize(), regions(entry, path));
  }

  /**
   * A sparse file's data regions, as offset and length pairs: in order, not overlapping, within its
   * size. Anything else is refused, since the writer seeks by them.
   */
  private static long[] regions(TarArchiveEntry entry, EntryPath path) throws LayerException {
    List<TarArchiveStructSparse> sparse;
    try {
      sparse = entry.getOrderedSparseHeaders();
    } catch (IOException e) {
      throw new LayerException(
          Reason.InvalidHeader, "sparse file " + path + " has a bad map: " + e.getMessage());
    }
    long[] regions = new long[sparse.size() * 2];
    long end = 0;
    for (int i = 0; i < sparse.size(); i++) {
      long offset = sparse.get(i).getOffset();
      long length = sparse.get(i).getNumbytes();
      if (offset < end || length < 0 || offset + length > entry.getRealSize() || offset < 0) {
        throw new LayerException(
            Reason.InvalidHeader,
            "sparse file " + path + " has regions out of order or past its size");
      }
      regions[2 * i] = offset;
      regions[2 * i + 1] = length;
      end = offset + length;
    }
    return regions;
  }

  private EntryAction whiteout(TarArchiveEntry entry, EntryPath path) throws LayerException {
    char type = (char) entry.getLinkFlag();
    if ((type != '0' && type != '\0') || entry.getName().endsWith("/") || entry.getSize() != 0) {
      throw new LayerException(
          Reason.InvalidWhiteout, "whiteout " + path + " is not an empty regular file");
    }
    if (path.name().equals(OPAQUE)) {
      return new Opaque(path.parent());
    }
    String hidden = path.name().substring(WHITEOUT_PREFIX.length());
    if (hidden.isEmpty()
        || hidden.chars().allMatch(c -> c == '.')
        || hidden.startsWith(WHITEOUT_PREFIX)) {
      throw new LayerException(Reason.InvalidWhiteout, "malformed whiteout " + path);
    }
    return new Whiteout(path.parent().child(hidden));
  }

  private EntryAction device(TarArchiveEntry entry, Map<String, byte[]> pax, EntryPath path)
      throws LayerException {
    int major = entry.getDevMajor();
    int minor = entry.getDevMinor();
    if (major < 0 || minor < 0) {
      throw new LayerException(Reason.InvalidHeader, "device " + path + " has negative numbers");
    }
    if (major > MAX_DEVICE_MAJOR || minor > MAX_DEVICE_MINOR) {
      throw new LayerException(
          Reason.InvalidDevice,
          "device "
              + path
              + " is "
              + major
              + ":"
              + minor
              + "; Linux device numbers reach "
              + MAX_DEVICE_MAJOR
              + ":"
              + MAX_DEVICE_MINOR);
    }
    boolean character = entry.getLinkFlag() == '3';
    if (character && major == 0 && minor == 0) {
      throw new LayerException(
          Reason.InvalidDevice,
          "character device 0:0 at " + path + " is an overlay whiteout, not a file");
    }
    int type = character ? FileStat.S_IFCHR : FileStat.S_IFBLK;
    return new MakeNode(path, meta(entry, pax, path), type, major, minor);
  }

  private String linkTarget(TarArchiveEntry entry, EntryPath path) throws LayerException {
    String target = entry.getLinkName();
    if (target == null || target.isEmpty() || target.indexOf('\0') >= 0) {
      throw new LayerException(Reason.InvalidName, "symlink " + path + " has no usable target");
    }
    if (target.getBytes(StandardCharsets.UTF_8).length > limits.maxPathBytes()) {
      throw new LayerException(Reason.InvalidName, "symlink " + path + " has an over-long target");
    }
    return target;
  }

  private Meta meta(TarArchiveEntry entry, Map<String, byte[]> pax, EntryPath path)
      throws LayerException {
    long uid = entry.getLongUserId();
    long gid = entry.getLongGroupId();
    if (uid < 0 || uid > MAX_ID || gid < 0 || gid > MAX_ID) {
      throw new LayerException(
          Reason.InvalidHeader,
          "entry " + path + " has owner " + uid + ":" + gid + " out of range");
    }
    long seconds = entry.getLastModifiedTime().toInstant().getEpochSecond();
    int nanos = entry.getLastModifiedTime().toInstant().getNano();
    long clamped = Math.max(0, Math.min(MAX_SECONDS, seconds));
    long mtime = clamped * 1_000_000_000L + (clamped == seconds ? nanos : 0);
    return new Meta((int) uid, (int) gid, entry.getMode() & 07777, mtime, xattrs(pax, path));
  }

  /**
   * {@code SCHILY.xattr.<name>} (raw value) and {@code LIBARCHIVE.xattr.<url-encoded name>} (base64
   * value). {@code user.*} and {@code security.capability} are kept; {@code trusted.*} is refused
   * (overlayfs reads {@code trusted.overlay.*} from layers); other namespaces are dropped.
   */
  private Map<String, byte[]> xattrs(Map<String, byte[]> pax, EntryPath path)
      throws LayerException {
    Map<String, byte[]> xattrs = new LinkedHashMap<>();
    for (Map.Entry<String, byte[]> record : pax.entrySet()) {
      String name;
      byte[] value;
      if (record.getKey().startsWith("SCHILY.xattr.")) {
        name = record.getKey().substring("SCHILY.xattr.".length());
        value = record.getValue();
      } else if (record.getKey().startsWith("LIBARCHIVE.xattr.")) {
        name =
            URLDecoder.decode(
                record.getKey().substring("LIBARCHIVE.xattr.".length()), StandardCharsets.UTF_8);
        try {
          value = Base64.getDecoder().decode(record.getValue());
        } catch (IllegalArgumentException e) {
          throw new LayerException(
              Reason.InvalidHeader, "xattr " + name + " of " + path + " is not base64");
        }
      } else {
        continue;
      }
      if (name.startsWith("trusted.")) {
        throw new LayerException(
            Reason.ForbiddenXattr, "entry " + path + " carries the xattr " + name);
      }
      if (!name.startsWith("user.") && !name.equals("security.capability")) {
        continue;
      }
      int nameBytes = name.getBytes(StandardCharsets.UTF_8).length;
      if (name.equals("user.") || nameBytes > MAX_XATTR_NAME_BYTES || name.indexOf('\0') >= 0) {
        throw new LayerException(
            Reason.InvalidHeader,
            "entry "
                + path
                + " has an xattr name the kernel refuses (empty, NUL or over 255 bytes)");
      }
      if (value.length > limits.maxXattrValueBytes()) {
        throw new LayerException(
            Reason.SizeLimit, "xattr " + name + " of " + path + " is " + value.length + " bytes");
      }
      if (name.equals("security.capability") && !isCapabilitySet(value)) {
        throw new LayerException(
            Reason.InvalidHeader,
            "xattr security.capability of " + path + " is not a version 2 or 3 capability set");
      }
      if (xattrs.put(name, value) == null && xattrs.size() > limits.maxXattrsPerEntry()) {
        throw new LayerException(
            Reason.SizeLimit,
            "entry " + path + " has more than " + limits.maxXattrsPerEntry() + " xattrs");
      }
    }
    return xattrs;
  }

  /**
   * Whether {@code value} is a capability set the kernel takes: {@code struct vfs_cap_data}, whose
   * little-endian first word carries the revision in its high byte, 20 bytes for revision 2 and 24
   * (a root id added) for revision 3. Anything else fails {@code setxattr} with EINVAL.
   */
  private static boolean isCapabilitySet(byte[] value) {
    if (value.length < 4) {
      return false;
    }
    int revision = value[3] & 0xff; // the high byte of the little-endian magic
    return (revision == 2 && value.length == 20) || (revision == 3 && value.length == 24);
  }
}
