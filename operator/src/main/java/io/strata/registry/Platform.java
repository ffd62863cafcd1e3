package io.strata.registry;

import java.util.Locale;
import java.util.Map;

/** The OS and architecture whose manifest a node takes from an image index. */
public record Platform(String os, String architecture) {
  /** From a Node's {@code kubernetes.io/os} and {@code kubernetes.io/arch}, else this process's. */
  public static Platform ofNode(Map<String, String> labels) {
    Platform own = current();
    if (labels == null) {
      return own;
    }
    return new Platform(
        labels.getOrDefault("kubernetes.io/os", own.os()),
        labels.getOrDefault("kubernetes.io/arch", own.architecture()));
  }

  /** {@code os/arch} as OCI names them, such as {@code linux/arm64}. */
  public static Platform parse(String text) {
    String[] parts = text.split("/", -1);
    if (parts.length != 2 || !parts[0].matches("[a-z0-9]+") || !parts[1].matches("[a-z0-9]+")) {
      throw new IllegalArgumentException("platform '" + text + "' is not OS/ARCH, as linux/amd64");
    }
    return new Platform(parts[0], parts[1]);
  }

  /** This JVM's platform in OCI terms (GOOS/GOARCH names). */
  public static Platform current() {
    String arch =
        switch (System.getProperty("os.arch").toLowerCase(Locale.ROOT)) {
          case "amd64", "x86_64" -> "amd64";
          case "aarch64", "arm64" -> "arm64";
          case "x86", "i386", "i686" -> "386";
          default -> System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        };
    return new Platform("linux", arch);
  }

  @Override
  public String toString() {
    return os + "/" + architecture;
  }
}
