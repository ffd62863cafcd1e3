package io.strata.registry;

import io.strata.oci.Digest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An image in a registry: {@code host[:port]/path[:tag][@sha256:hex]}. The registry host is always
 * written out: Strata has no default registry, so a reference means the same on every node.
 */
public record ImageReference(String registry, String repository, String tag, Digest digest) {
  private static final String COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
  private static final String HOST =
      "(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
          + "|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?";
  private static final Pattern REFERENCE =
      Pattern.compile(
          "^("
              + HOST
              + ")/("
              + COMPONENT
              + "(?:/"
              + COMPONENT
              + ")*)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$");

  public ImageReference {
    if (tag == null && digest == null) {
      tag = "latest";
    }
  }

  /**
   * Parses {@code text}; the first component must be a registry host (it has a dot or a port, or is
   * {@code localhost}), as in {@code registry.example/team/app:1.0}.
   */
  public static ImageReference parse(String text) {
    Matcher m = text == null || text.length() > 512 ? null : REFERENCE.matcher(text);
    if (m == null || !m.matches()) {
      throw new IllegalArgumentException(
          "image " + quoted(text) + " is not host[:port]/repository[:tag][@sha256:<64 hex>]");
    }
    String host = m.group(1);
    if (!host.contains(".") && !host.contains(":") && !host.equals("localhost")) {
      throw new IllegalArgumentException(
          "image "
              + quoted(text)
              + " names no registry host: write it out, e.g. registry.example/"
              + text);
    }
    String repository = m.group(2);
    if (repository.length() > 255) {
      throw new IllegalArgumentException("image " + quoted(text) + ": repository name too long");
    }
    return new ImageReference(
        host, repository, m.group(3), m.group(4) == null ? null : Digest.parse(m.group(4)));
  }

  /** The same image pinned to {@code manifest}, without its tag. */
  public ImageReference pinned(Digest manifest) {
    return new ImageReference(registry, repository, null, manifest);
  }

  /** The tag or digest that names the manifest in the registry API. */
  public String manifestReference() {
    return digest != null ? digest.toString() : tag;
  }

  @Override
  public String toString() {
    return registry
        + "/"
        + repository
        + (tag != null && digest == null ? ":" + tag : "")
        + (digest != null ? "@" + digest : "");
  }

  private static String quoted(String text) {
    if (text == null) {
      return "null";
    }
    String shown = text.length() > 80 ? text.substring(0, 80) + "..." : text;
    return "\"" + shown.replaceAll("\\p{Cntrl}", "?") + "\"";
  }
}
