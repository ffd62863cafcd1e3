package io.strata.tarapply;

import java.util.Map;

/** What one tar entry asks of the root being built, decided and validated before any syscall. */
public sealed interface EntryAction {

  /** Owner, permission bits, modification time and xattrs to give a new file. */
  record Meta(int uid, int gid, int mode, long mtimeNanos, Map<String, byte[]> xattrs) {}

  EntryPath path();

  /** A directory: created, or merged with one already there (its metadata replaced). */
  record MakeDirectory(EntryPath path, Meta meta) implements EntryAction {}

  /**
   * A regular file whose {@code size} bytes follow in the archive; for a sparse file, {@code
   * regions} lists where its data lies (offset, length pairs, in order) and everything else is a
   * hole, written as one. Null for a plain file.
   */
  record WriteFile(EntryPath path, Meta meta, long size, long[] regions) implements EntryAction {
    public WriteFile(EntryPath path, Meta meta, long size) {
      this(path, meta, size, null);
    }
  }

  /** A symlink; the target is stored verbatim and never followed. */
  record MakeSymlink(EntryPath path, Meta meta, String target) implements EntryAction {}

  /** Another name for a file an earlier entry made. */
  record MakeHardlink(EntryPath path, EntryPath target) implements EntryAction {}

  /**
   * A FIFO or a device node; {@code type} is {@code S_IFIFO}, {@code S_IFCHR} or {@code S_IFBLK}.
   */
  record MakeNode(EntryPath path, Meta meta, int type, int major, int minor)
      implements EntryAction {}

  /** {@code .wh.<name>}: delete what lower layers had at {@code path}. */
  record Whiteout(EntryPath path) implements EntryAction {}

  /** {@code .wh..wh..opq}: drop what lower layers put in directory {@code path}. */
  record Opaque(EntryPath path) implements EntryAction {}
}
