package io.strata.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.strata.fetch.FetchException.Reason;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Where requests may go. The addresses are literals, so checking them asks no resolver and sends
 * nothing; the redirect case sends every request to a proxy on loopback, so that a request the
 * check failed to stop would reach this test, never the address it names.
 */
class DestinationsTest {
  @Test
  void linkLocalIsRefusedUnlessAllowed() {
    for (String uri : List.of("http://169.254.169.254/latest", "https://[fe80::1]:8443/v2/")) {
      assertThatThrownBy(() -> Destinations.DEFAULT.check(URI.create(uri)))
          .isInstanceOfSatisfying(
              RefusedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.ForbiddenUrl))
          .hasMessageContaining("is link-local")
          .hasMessageContaining("--allow-link-local");
      assertThatCode(() -> new Destinations(true, false).check(URI.create(uri)))
          .doesNotThrowAnyException();
    }
  }

  @Test
  void loopbackIsRefusedOnlyWhereTheNodeDeniesIt() {
    Destinations denying = new Destinations(false, true);
    for (String uri : List.of("http://127.0.0.1:5000/v2/", "http://[::1]/", "http://0.0.0.0/")) {
      assertThatCode(() -> Destinations.DEFAULT.check(URI.create(uri))).doesNotThrowAnyException();
      assertThatThrownBy(() -> denying.check(URI.create(uri)))
          .isInstanceOf(RefusedException.class)
          .hasMessageContaining("is loopback");
    }
  }

  @Test
  void everyRedirectIsCheckedBeforeItIsFollowed() throws Exception {
    List<String> reached = new CopyOnWriteArrayList<>();
    HttpServer proxy = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    proxy.createContext(
        "/",
        exchange -> {
          reached.add(exchange.getRequestURI().toString());
          if (exchange.getRequestURI().getPath().equals("/start")) {
            exchange.getResponseHeaders().set("Location", "http://169.254.169.254/latest/meta");
            exchange.sendResponseHeaders(302, -1);
          } else {
            exchange.sendResponseHeaders(200, -1);
          }
          exchange.close();
        });
    proxy.start();
    try {
      HttpClient http =
          HttpClient.newBuilder()
              .followRedirects(HttpClient.Redirect.NEVER)
              .proxy(ProxySelector.of(proxy.getAddress()))
              .connectTimeout(Duration.ofSeconds(5))
              .build();
      HttpRequest start =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:9/start"))
              .timeout(Duration.ofSeconds(5))
              .build();

      assertThatThrownBy(
              () -> Destinations.DEFAULT.send(http, start, HttpResponse.BodyHandlers.discarding()))
          .isInstanceOf(RefusedException.class)
          .hasMessageContaining("http://169.254.169.254 is link-local");
      assertThat(reached).as("what was sent").containsExactly("http://127.0.0.1:9/start");
    } finally {
      proxy.stop(0);
    }
  }
}
