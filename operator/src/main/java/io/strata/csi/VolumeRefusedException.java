package io.strata.csi;

/**
 * Why a pod volume cannot be published or unpublished, with the CSI error code that says so to
 * kubelet (DESIGN.md section 6 makes each code a contract). Kept free of gRPC types: {@link
 * NodeService} maps it.
 */
public final class VolumeRefusedException extends Exception {
  /** The CSI (gRPC) status codes Strata answers with. */
  public enum Code {
    /** An attribute, volume id or target that is not acceptable; the message names it. */
    INVALID_ARGUMENT,
    /** The LayerSet does not exist. */
    NOT_FOUND,
    /** The target holds another volume already. */
    ALREADY_EXISTS,
    /** The LayerSet is being deleted, or cannot be served on this node as it stands. */
    FAILED_PRECONDITION,
    /** The pod's namespace may not mount the LayerSet. */
    PERMISSION_DENIED,
    /** Not yet: the LayerSet is still being fetched or built here, or failed here. */
    UNAVAILABLE,
    /** The size asked for is over what this node allows. */
    RESOURCE_EXHAUSTED,
    /** The node could not do it (a mount or file system call failed). */
    INTERNAL
  }

  private final Code code;

  public VolumeRefusedException(Code code, String message) {
    super(message);
    this.code = code;
  }

  public VolumeRefusedException(Code code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public Code code() {
    return code;
  }
}
