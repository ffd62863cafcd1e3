package io.strata.kube;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class HealthServerTest {
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void portZeroTurnsItOff() throws Exception {
    assertThat(HealthServer.start(0, () -> true, () -> true)).isNull();
  }

  @Test
  void readinessFollowsItsSupplierAndLivenessIsSeparate() throws Exception {
    AtomicBoolean ready = new AtomicBoolean(false);
    try (HealthServer server = HealthServer.start(freePort(), () -> true, ready::get)) {
      assertThat(status(server, "/healthz")).isEqualTo(200);
      assertThat(status(server, "/readyz")).isEqualTo(503);
      ready.set(true);
      assertThat(status(server, "/readyz")).isEqualTo(200);
    }
  }

  @Test
  void metricsAreServedWhenGiven() throws Exception {
    try (HealthServer server =
        HealthServer.start(freePort(), () -> true, () -> true, () -> "up 1\n")) {
      HttpRequest request =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics"))
              .build();
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("up 1\n");
    }
  }

  private int status(HealthServer server, String path) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build();
    return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
