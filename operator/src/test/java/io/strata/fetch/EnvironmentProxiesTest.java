package io.strata.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The node's HTTPS_PROXY, HTTP_PROXY and NO_PROXY, read as curl and Go read them. */
class EnvironmentProxiesTest {
  private final EnvironmentProxies proxies =
      new EnvironmentProxies(
          Map.of(
              "HTTPS_PROXY", "http://proxy.corp:3128",
              "http_proxy", "proxy.corp:8080",
              "NO_PROXY", "internal.example, .svc,10.1.2.3,registry.local:5000"));

  private static String via(Proxy proxy) {
    if (proxy == Proxy.NO_PROXY) {
      return "direct";
    }
    InetSocketAddress address = (InetSocketAddress) proxy.address();
    return address.getHostString() + ":" + address.getPort();
  }

  private String route(String url) {
    return via(proxies.select(URI.create(url)).getFirst());
  }

  @Test
  void eachSchemeUsesItsOwnProxy() {
    assertThat(route("https://files.example/a.tar")).isEqualTo("proxy.corp:3128");
    assertThat(route("http://files.example/a.tar")).isEqualTo("proxy.corp:8080");
  }

  @Test
  void noProxyHostsDomainsAndAddressesGoDirect() {
    assertThat(route("https://internal.example/x")).isEqualTo("direct");
    assertThat(route("https://a.internal.example/x")).isEqualTo("direct");
    assertThat(route("https://notinternal.example/x")).isEqualTo("proxy.corp:3128");
    assertThat(route("https://blobs.default.svc/x")).isEqualTo("direct");
    assertThat(route("http://10.1.2.3/x")).isEqualTo("direct");
    assertThat(route("https://registry.local:5000/v2/")).isEqualTo("direct");
  }

  @Test
  void loopbackIsNeverProxied() {
    assertThat(route("http://127.0.0.1:5000/v2/")).isEqualTo("direct");
    assertThat(route("http://127.8.9.10/v2/")).isEqualTo("direct");
    assertThat(route("http://[::1]:5000/v2/")).isEqualTo("direct");
    assertThat(route("http://localhost/v2/")).isEqualTo("direct");
  }

  @Test
  void noSettingsMeansDirect() {
    EnvironmentProxies none = new EnvironmentProxies(Map.of());
    assertThat(none.configured()).isFalse();
    assertThat(via(none.select(URI.create("https://files.example/")).getFirst()))
        .isEqualTo("direct");
    assertThat(
            via(
                new EnvironmentProxies(Map.of("NO_PROXY", "*", "HTTPS_PROXY", "p:1"))
                    .select(URI.create("https://files.example/"))
                    .getFirst()))
        .isEqualTo("direct");
  }
}
