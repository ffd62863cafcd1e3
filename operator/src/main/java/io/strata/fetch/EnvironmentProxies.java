package io.strata.fetch;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Proxies chosen the way curl and Go choose them: {@code HTTPS_PROXY} for https, {@code HTTP_PROXY}
 * for http (either spelling case), none for hosts {@code NO_PROXY} lists (a host, a {@code .domain}
 * or {@code domain} suffix, an IP address, or {@code *}) and none for loopback, so a node's proxy
 * settings work for the agent as they do for the kubelet.
 */
public final class EnvironmentProxies extends ProxySelector {
  private final Proxy https;
  private final Proxy http;
  private final List<String> noProxy;

  public EnvironmentProxies(Map<String, String> env) {
    this.https = proxy(first(env, "HTTPS_PROXY", "https_proxy"));
    this.http = proxy(first(env, "HTTP_PROXY", "http_proxy"));
    String none = first(env, "NO_PROXY", "no_proxy");
    this.noProxy =
        none == null
            ? List.of()
            : Arrays.stream(none.split(","))
                .map(s -> s.trim().toLowerCase(Locale.ROOT))
                .filter(s -> !s.isEmpty())
                .toList();
  }

  /** Whether any proxy is configured at all. */
  public boolean configured() {
    return https != Proxy.NO_PROXY || http != Proxy.NO_PROXY;
  }

  @Override
  public List<Proxy> select(URI uri) {
    String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
    if (bypassed(host)) {
      return List.of(Proxy.NO_PROXY);
    }
    return List.of("https".equalsIgnoreCase(uri.getScheme()) ? https : http);
  }

  boolean bypassed(String host) {
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (host.equals("localhost") || isLoopbackLiteral(host)) {
      return true;
    }
    for (String rule : noProxy) {
      if (rule.equals("*")) {
        return true;
      }
      String domain = rule.startsWith(".") ? rule.substring(1) : rule;
      int port = domain.lastIndexOf(':');
      if (port > 0 && domain.indexOf(':') == port) {
        domain = domain.substring(0, port); // host:port rules apply to the host
      }
      if (host.equals(domain) || host.endsWith("." + domain)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isLoopbackLiteral(String host) {
    if (!host.matches("[0-9.]+|[0-9a-f:]+")) {
      return false; // never a DNS lookup to decide
    }
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void connectFailed(URI uri, SocketAddress address, IOException failure) {}

  private static String first(Map<String, String> env, String... names) {
    for (String name : names) {
      String value = env.get(name);
      if (value != null && !value.isBlank()) {
        return value.trim();
      }
    }
    return null;
  }

  private static Proxy proxy(String value) {
    if (value == null) {
      return Proxy.NO_PROXY;
    }
    URI uri = URI.create(value.contains("://") ? value : "http://" + value);
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("proxy " + value + " names no host");
    }
    int port = uri.getPort() > 0 ? uri.getPort() : "https".equals(uri.getScheme()) ? 443 : 80;
    return new Proxy(Proxy.Type.HTTP, InetSocketAddress.createUnresolved(uri.getHost(), port));
  }
}
