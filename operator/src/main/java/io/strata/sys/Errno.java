package io.strata.sys;

/**
 * The errors the rest of Strata tells apart, named as in errno(3). Their numbers come from the
 * platform (through jnr-constants, which stays inside this package).
 */
public enum Errno {
  E2BIG,
  EBUSY,
  EEXIST,
  EINTR,
  EINVAL,
  EIO,
  ELOOP,
  EMLINK,
  ENAMETOOLONG,
  ENOENT,
  ENOSPC,
  ENOSYS,
  ENOTDIR,
  ENOTEMPTY,
  EOPNOTSUPP,
  EWOULDBLOCK,
  EXDEV;

  private final int value = jnr.constants.platform.Errno.valueOf(name()).intValue();

  /** The platform's number for this error. */
  public int intValue() {
    return value;
  }

  /** errno(3)'s name and description of {@code errno}, or its number when unknown. */
  static String describe(int errno) {
    jnr.constants.platform.Errno known = jnr.constants.platform.Errno.valueOf(errno);
    return known == jnr.constants.platform.Errno.__UNKNOWN_CONSTANT__
        ? "errno " + errno
        : known.name() + " (" + known.description() + ")";
  }
}
