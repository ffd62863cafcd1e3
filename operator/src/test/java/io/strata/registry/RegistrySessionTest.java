package io.strata.registry;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.strata.fetch.Destinations;
import io.strata.fetch.RefusedException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What a registry's token service sends is read only up to a bound. */
class RegistrySessionTest {
  private HttpServer server;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/v2/",
        exchange -> {
          exchange
              .getResponseHeaders()
              .set("WWW-Authenticate", "Bearer realm=\"" + base() + "/token\",service=\"test\"");
          exchange.sendResponseHeaders(401, -1);
          exchange.close();
        });
    // A token response of 8 MiB, sent without a length.
    server.createContext(
        "/token",
        exchange -> {
          exchange.sendResponseHeaders(200, 0);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write("{\"token\":\"".getBytes(StandardCharsets.UTF_8));
            byte[] chunk = "a".repeat(64 << 10).getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < 128; i++) {
              out.write(chunk);
            }
            out.write("\"}".getBytes(StandardCharsets.UTF_8));
          } catch (java.io.IOException e) {
            // the client stopped reading: what the test wanted
          }
          exchange.close();
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private String base() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @Test
  void aTokenResponseOverOneMebibyteIsRefusedUnread() {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    RegistrySession session =
        new RegistrySession(http, Destinations.DEFAULT, "team/app", null, Duration.ofSeconds(10));
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base() + "/v2/team/app/manifests/1.0"))
            .timeout(Duration.ofSeconds(10));
    assertThatThrownBy(() -> session.send(request, HttpResponse.BodyHandlers.discarding()))
        .isInstanceOf(RefusedException.class)
        .hasMessageContaining("sent more than 1 MiB for a token");
  }
}
