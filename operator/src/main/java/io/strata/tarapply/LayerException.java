package io.strata.tarapply;

import io.strata.ReasonedException;

/**
 * A layer Strata refuses, with a typed reason a node reports and a message naming the entry. The
 * root being built is discarded; nothing committed changes.
 */
public class LayerException extends ReasonedException {
  /** CamelCase reasons, as NodeLayerState reports them. */
  public enum Reason {
    /** A name or link leads out of the root. */
    PathEscape,
    /** A name the filesystem cannot or must not hold: NUL, control characters, too long. */
    InvalidName,
    /** A malformed whiteout, or a whiteout of the root. */
    InvalidWhiteout,
    /** A device Strata will not create (a 0:0 character device is an overlay whiteout). */
    InvalidDevice,
    /** An xattr in a namespace Strata never writes from a layer ({@code trusted.*}). */
    ForbiddenXattr,
    /** A header value out of range: ids, sizes, types. */
    InvalidHeader,
    /** Headers that different tar readers would read differently. */
    AmbiguousHeader,
    /** Over a configured bound: entries, bytes, header size, depth, xattrs. */
    SizeLimit,
    /** A hardlink to a directory, to a missing or later entry. */
    InvalidLink,
    /** A hardlink that no copy could stand in for. */
    LinkLimit,
    /** A path component that exists and is not a directory. */
    NotADirectory,
    /** The bytes do not have the digest they were declared with. */
    DigestMismatch,
    /** The stream ended inside an entry or before the end-of-archive marker. */
    Truncated,
    /** Bytes after the end of the archive or of the compressed stream. */
    TrailingGarbage,
    /** A media type that is not a tar layer, or that the bytes contradict. */
    UnsupportedMediaType,
    /** The filesystem is out of space or inodes. */
    NoSpace,
    /** Any other I/O failure. */
    IOError
  }

  public LayerException(Reason reason, String message) {
    this(reason, message, null);
  }

  public LayerException(Reason reason, String message, Throwable cause) {
    super(reason, message, cause);
  }

  @Override
  public Reason reason() {
    return (Reason) super.reason();
  }
}
