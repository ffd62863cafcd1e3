package io.strata.registry;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * How to reach each registry: its mirrors, tried first, then the registry itself over HTTPS; a
 * registry the admin lists as insecure, or one on a loopback address (127.0.0.0/8, ::1), is asked
 * over plain HTTP when it does not speak TLS, as Docker allows. A certificate that fails
 * verification never falls back to plain HTTP.
 *
 * @param mirrors registry host[:port] to mirror base URLs ({@code https://mirror.example:5000})
 * @param insecure registry host[:port] reached over plain HTTP
 */
public record RegistryHosts(Map<String, List<URI>> mirrors, Set<String> insecure) {
  public static final RegistryHosts DEFAULT = new RegistryHosts(Map.of(), Set.of());

  /**
   * One base URL to ask, and whether it stands in for the registry.
   *
   * @param plainFallback this HTTPS endpoint may be followed by the same registry over plain HTTP,
   *     for when it turns out not to speak TLS at all
   */
  public record Endpoint(URI base, String host, boolean mirror, boolean plainFallback) {}

  public RegistryHosts {
    mirrors = Map.copyOf(mirrors);
    insecure = Set.copyOf(insecure);
    for (List<URI> urls : mirrors.values()) {
      for (URI url : urls) {
        if (!"https".equals(url.getScheme()) && !"http".equals(url.getScheme())
            || url.getHost() == null) {
          throw new IllegalArgumentException("mirror " + url + " is not an http(s) URL");
        }
      }
    }
  }

  /**
   * Parses {@code registry=mirrorURL} pairs and the insecure hosts, as the command line gives them.
   */
  public static RegistryHosts parse(List<String> mirrorPairs, List<String> insecureHosts) {
    Map<String, List<URI>> mirrors = new LinkedHashMap<>();
    for (String pair : mirrorPairs) {
      int eq = pair.indexOf('=');
      if (eq <= 0 || eq == pair.length() - 1) {
        throw new IllegalArgumentException(
            "registry mirror \""
                + pair
                + "\" is not REGISTRY=URL, e.g. registry.example=https://mirror.example");
      }
      URI url = URI.create(pair.substring(eq + 1).replaceAll("/+$", ""));
      mirrors
          .computeIfAbsent(pair.substring(0, eq).toLowerCase(Locale.ROOT), k -> new ArrayList<>())
          .add(url);
    }
    return new RegistryHosts(
        mirrors, Set.copyOf(insecureHosts.stream().map(h -> h.toLowerCase(Locale.ROOT)).toList()));
  }

  /** Where to ask for {@code registry}'s content, in order. */
  public List<Endpoint> endpoints(String registry) {
    String host = registry.toLowerCase(Locale.ROOT);
    List<Endpoint> endpoints = new ArrayList<>();
    for (URI mirror : mirrors.getOrDefault(host, List.of())) {
      String authority = mirror.getRawAuthority();
      endpoints.add(new Endpoint(mirror, authority.toLowerCase(Locale.ROOT), true, false));
    }
    boolean plainAllowed = insecure.contains(host) || isLoopback(host);
    endpoints.add(new Endpoint(URI.create("https://" + registry), host, false, plainAllowed));
    if (plainAllowed) {
      endpoints.add(new Endpoint(URI.create("http://" + registry), host, false, false));
    }
    return endpoints;
  }

  /** Whether {@code host[:port]} is a loopback address literal or {@code localhost}. */
  static boolean isLoopback(String hostPort) {
    String host = hostPort;
    if (host.startsWith("[")) {
      host = host.substring(1, host.indexOf(']'));
    } else if (host.indexOf(':') >= 0) {
      host = host.substring(0, host.indexOf(':'));
    }
    if (host.equals("localhost")) {
      return true;
    }
    if (!host.matches("[0-9.]+|[0-9a-fA-F:]+")) {
      return false; // a name: never resolved to decide
    }
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
