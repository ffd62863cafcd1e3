package io.strata.overlay;

import java.nio.file.Path;
import java.util.List;

/**
 * One line of {@code /proc/self/mountinfo} (proc(5)), with octal escapes already decoded.
 *
 * @param optionalFields propagation tags such as {@code shared:12} or {@code master:3}
 */
public record MountInfo(
    int mountId,
    int parentId,
    String majorMinor,
    String root,
    Path mountPoint,
    String mountOptions,
    List<String> optionalFields,
    String fsType,
    String source,
    String superOptions) {

  /** Whether this mount propagates to and from a peer group ({@code shared:N}). */
  public boolean isShared() {
    return optionalFields.stream().anyMatch(f -> f.startsWith("shared:"));
  }
}
