package io.strata.tarapply;

import io.strata.tarapply.LayerException.Reason;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A tar entry's name, cleaned: relative to the root being built, no empty, {@code .} or {@code ..}
 * components. A leading {@code /} or {@code ./} is dropped (contained); a {@code ..} that would
 * climb above the root is refused, as are names no filesystem should hold.
 */
public record EntryPath(List<String> components) {
  static final EntryPath ROOT = new EntryPath(List.of());

  public EntryPath {
    components = List.copyOf(components);
  }

  static EntryPath parse(String raw, Limits limits) throws LayerException {
    if (raw == null) {
      throw new LayerException(Reason.InvalidName, "an entry has no name");
    }
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        throw new LayerException(
            Reason.InvalidName, "entry name holds a control character: " + printable(raw));
      }
    }
    if (raw.getBytes(StandardCharsets.UTF_8).length > limits.maxPathBytes()) {
      throw new LayerException(
          Reason.InvalidName,
          "entry name is over " + limits.maxPathBytes() + " bytes: " + printable(raw));
    }
    List<String> parts = new ArrayList<>();
    for (String part : raw.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        if (parts.isEmpty()) {
          throw new LayerException(
              Reason.PathEscape, "entry " + printable(raw) + " climbs out of the root");
        }
        parts.removeLast();
        continue;
      }
      if (part.getBytes(StandardCharsets.UTF_8).length > 255) {
        throw new LayerException(
            Reason.InvalidName, "entry " + printable(raw) + " has a component over 255 bytes");
      }
      parts.add(part);
    }
    if (parts.size() > limits.maxDepth()) {
      throw new LayerException(
          Reason.InvalidName, "entry is nested deeper than " + limits.maxDepth() + " directories");
    }
    return new EntryPath(parts);
  }

  boolean isRoot() {
    return components.isEmpty();
  }

  String name() {
    return components.getLast();
  }

  EntryPath parent() {
    return new EntryPath(components.subList(0, components.size() - 1));
  }

  EntryPath child(String name) {
    List<String> longer = new ArrayList<>(components);
    longer.add(name);
    return new EntryPath(longer);
  }

  @Override
  public String toString() {
    return isRoot() ? "." : String.join("/", components);
  }

  /** A name for messages: control characters shown escaped, length bounded. */
  static String printable(String raw) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < raw.length() && out.length() < 200; i++) {
      char c = raw.charAt(i);
      out.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
    }
    return raw.length() > 200 ? out + "..." : out.toString();
  }
}
