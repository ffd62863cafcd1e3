package io.strata.sys;

/** The mount(2) flags Strata uses, by intent. */
public enum MountOption {
  READ_ONLY(LibC.MS_RDONLY),
  NO_SUID(LibC.MS_NOSUID),
  NO_DEV(LibC.MS_NODEV),
  /** Binds the source onto the target. */
  BIND(LibC.MS_BIND),
  /** Makes the target a private mount: it leaves any peer group. */
  PRIVATE(LibC.MS_PRIVATE),
  /** Makes the target a shared mount: mounts beneath it propagate to its peers. */
  SHARED(LibC.MS_SHARED);

  private final long flag;

  MountOption(long flag) {
    this.flag = flag;
  }

  static long flags(Iterable<MountOption> options) {
    long flags = 0;
    for (MountOption option : options) {
      flags |= option.flag;
    }
    return flags;
  }
}
