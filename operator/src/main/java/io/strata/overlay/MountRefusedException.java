package io.strata.overlay;

import io.strata.ReasonedException;

/** A mount Strata will not make, with the CamelCase reason the node reports. */
public class MountRefusedException extends ReasonedException {
  /** Reasons a NodeLayerState entry carries when a mount is refused. */
  public enum Reason {
    /** The target is outside the mount base, or reaches it through a symlink. */
    UnsafeTarget,
    /** A path or option holds a character that mount data cannot carry safely. */
    UnsafeMountOption,
    /** The mount data would not fit in one page: the kernel would truncate it. */
    MountDataTooLong,
    /** Something else is mounted where this mount would go, around it or under its lower. */
    Conflict,
    /** The mount is in use: unmounting it would fail with EBUSY. */
    Busy,
    /** The lower root is missing or not a directory. */
    LowerMissing,
    /** A system call failed. */
    MountFailed
  }

  public MountRefusedException(Reason reason, String message) {
    super(reason, message, null);
  }

  @Override
  public Reason reason() {
    return (Reason) super.reason();
  }
}
