package io.strata.overlay;

import io.strata.overlay.MountRefusedException.Reason;
import io.strata.sys.MountOption;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns an {@link OverlayRequest} into the exact mount(2) call, or refuses it before any syscall.
 * Pure: the whole option grammar, and every refusal, tests without root.
 *
 * <p>Overlay options are comma-separated and lowerdir lists colon-separated; the kernel un-escapes
 * backslashes. A path holding {@code , : \}, whitespace or a control character could therefore
 * smuggle in options or layers, so such a path is refused rather than escaped.
 */
public final class OverlayPlanner {
  /** The kernel copies mount data into one page and silently drops the rest. */
  static final int MAX_DATA = 4095;

  /** Always set: no index or metacopy or redirects, so an upper never depends on lower inodes. */
  static final String FIXED_OPTIONS = "index=off,metacopy=off,redirect_dir=off";

  private static final Pattern UNSAFE_PATH_CHARS = Pattern.compile("[,:\\\\\\s\\p{Cntrl}]");
  private static final Pattern SELINUX_CONTEXT =
      Pattern.compile("[a-z0-9_]+:[a-z0-9_]+:[a-z0-9_]+(:[A-Za-z0-9.,:-]+)?");

  private OverlayPlanner() {}

  /** The overlay of an OverlayMount: its source is {@code strata:<uid>}. */
  public static MountSpec plan(OverlayRequest request) throws MountRefusedException {
    if (!MountRequest.isValidUid(request.uid())) {
      throw new MountRefusedException(
          Reason.UnsafeMountOption, "mount uid '" + request.uid() + "' is not [a-z0-9-]");
    }
    return plan(request, "strata:" + request.uid());
  }

  /**
   * The overlay with the given mount source, which must already be safe: it is how a restarted
   * agent recognises the mount ({@code strata-csi:<volume id>} for pod volumes).
   */
  public static MountSpec plan(OverlayRequest request, String source) throws MountRefusedException {
    StringBuilder data = new StringBuilder();
    Set<MountOption> flags = EnumSet.of(MountOption.NO_SUID, MountOption.NO_DEV);
    if (request.readOnly()) {
      flags.add(MountOption.READ_ONLY);
      data.append("lowerdir=")
          .append(safe("lower root", request.lowerRoot()))
          .append(':')
          .append(safe("empty lower", request.emptyLower()));
    } else {
      data.append("lowerdir=")
          .append(safe("lower root", request.lowerRoot()))
          .append(",upperdir=")
          .append(safe("upper", request.upperDir()))
          .append(",workdir=")
          .append(safe("work dir", request.workDir()));
    }
    data.append(',').append(FIXED_OPTIONS);
    if (request.volatileUpper() && !request.readOnly()) {
      data.append(",volatile");
    }
    String context = request.seLinuxContext();
    if (context != null && !context.isEmpty()) {
      if (!SELINUX_CONTEXT.matcher(context).matches()) {
        throw new MountRefusedException(
            Reason.UnsafeMountOption,
            "SELinux context '" + context + "' is not user:role:type[:level]");
      }
      data.append(",context=\"").append(context).append('"'); // quoted: levels hold , and :
    }
    if (data.length() > MAX_DATA) {
      throw new MountRefusedException(
          Reason.MountDataTooLong,
          "overlay mount data is " + data.length() + " bytes, over one page (" + MAX_DATA + ")");
    }
    safe("target", request.target());
    return new MountSpec(source, request.target(), "overlay", flags, data.toString());
  }

  private static String safe(String what, Path path) throws MountRefusedException {
    if (path == null) {
      throw new MountRefusedException(Reason.UnsafeMountOption, "no " + what + " path");
    }
    String text = path.toString();
    if (!path.isAbsolute() || !path.normalize().equals(path)) {
      throw new MountRefusedException(
          Reason.UnsafeMountOption, what + " " + text + " is not an absolute, normalized path");
    }
    if (UNSAFE_PATH_CHARS.matcher(text).find()) {
      throw new MountRefusedException(
          Reason.UnsafeMountOption,
          what + " " + text + " holds a character overlay options cannot carry (, : \\ space)");
    }
    return text;
  }
}
