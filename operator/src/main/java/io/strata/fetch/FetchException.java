package io.strata.fetch;

import io.strata.ReasonedException;

/**
 * Bytes Strata could not bring onto the node: a registry or server that refused or did not answer,
 * an image it will not use, a download that is not what it was declared to be. Nothing is published
 * from it.
 */
public final class FetchException extends ReasonedException {
  /** CamelCase reasons, as NodeLayerState reports them. */
  public enum Reason {
    /** The server refused the credentials, or asked for some and none were given. */
    Unauthorized,
    /** The server has no such blob, manifest, tag or repository. */
    NotFound,
    /** The pull secret is missing, of the wrong type, or unreadable. */
    InvalidPullSecret,
    /** An image reference Strata cannot use as written. */
    InvalidImage,
    /** No origin could be reached, or none answered in time, after retries. */
    Unreachable,
    /**
     * A URL this node does not fetch from: a file outside the directories it allows, a link-local
     * host, or loopback where it is denied.
     */
    ForbiddenUrl,
    /**
     * An image Strata will not use: foreign layers, no manifest for this platform, not an image.
     */
    UnsupportedImage,
    /** A layer whose media type is not a tar layer. */
    UnsupportedMediaType,
    /** The bytes do not have the digest they were declared with. */
    DigestMismatch,
    /** More bytes than the manifest or the layer's {@code size} declared. */
    SizeLimit,
    /** The filesystem is out of space or inodes. */
    NoSpace,
    /** Any other I/O failure. */
    IOError
  }

  public FetchException(Reason reason, String message) {
    this(reason, message, null);
  }

  public FetchException(Reason reason, String message, Throwable cause) {
    super(reason, message, cause);
  }

  @Override
  public Reason reason() {
    return (Reason) super.reason();
  }
}
