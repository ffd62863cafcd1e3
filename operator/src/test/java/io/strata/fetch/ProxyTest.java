package io.strata.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.strata.layout.StoreLayout;
import io.strata.oci.Digest;
import io.strata.testing.LocalRegistry;
import io.strata.testing.Tools;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.Random;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Downloads through a real proxy (tinyproxy), as an agent on a node behind one makes them: {@code
 * HTTP_PROXY} for http, a CONNECT tunnel through {@code HTTPS_PROXY} for https (with the CA bundle
 * still checking the origin), and straight to the origin for hosts {@code NO_PROXY} names. Proxies
 * are never used for loopback, so the origin listens on a non-loopback address of this machine.
 */
class ProxyTest {
  @TempDir Path tmp;
  private final byte[] blob = new byte[1 << 20];
  private InetAddress origin;
  private Process proxy;
  private int proxyPort;
  private Path proxyLog;
  private HttpServer http;
  private HttpsServer https;
  private Path caBundle;

  @BeforeEach
  void start() throws Exception {
    Tools.requireCommand("tinyproxy");
    Tools.requireCommand("openssl");
    origin = nonLoopbackAddress();
    Tools.require(
        origin != null,
        "a non-loopback IPv4 address on this machine (proxies are never used for loopback)");
    new Random(3).nextBytes(blob);

    proxyPort = LocalRegistry.freePort();
    proxyLog = tmp.resolve("tinyproxy.log");
    Path config = tmp.resolve("tinyproxy.conf");
    Files.writeString(
        config,
        """
        Port %d
        Listen 127.0.0.1
        Timeout 30
        LogFile "%s"
        LogLevel Info
        MaxClients 20
        Allow 127.0.0.1
        """
            .formatted(proxyPort, proxyLog));
    proxy =
        new ProcessBuilder("tinyproxy", "-d", "-c", config.toString())
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("tinyproxy.out").toFile())
            .start();
    awaitListening(proxyPort);

    http = HttpServer.create(new InetSocketAddress(origin, 0), 0);
    http.createContext("/blob", this::serve);
    http.start();

    caBundle = certificateFor(origin);
    https = HttpsServer.create(new InetSocketAddress(origin, 0), 0);
    https.setHttpsConfigurator(new HttpsConfigurator(serverContext()));
    https.createContext("/blob", this::serve);
    https.start();
  }

  @AfterEach
  void stop() {
    if (http != null) {
      http.stop(0);
    }
    if (https != null) {
      https.stop(0);
    }
    if (proxy != null) {
      proxy.destroy();
    }
  }

  @Test
  void httpGoesThroughHttpProxy() throws Exception {
    String url = "http://" + origin.getHostAddress() + ":" + http.getAddress().getPort() + "/blob";
    Path got = fetcher(Map.of("HTTP_PROXY", "http://127.0.0.1:" + proxyPort), null).fetch(url);
    assertThat(Files.readAllBytes(got)).isEqualTo(blob);
    assertThat(Files.readString(proxyLog)).contains("GET " + url);
  }

  @Test
  void httpsTunnelsThroughHttpsProxyAndStillChecksTheOrigin() throws Exception {
    String hostPort = origin.getHostAddress() + ":" + https.getAddress().getPort();
    Path got =
        fetcher(Map.of("https_proxy", "http://127.0.0.1:" + proxyPort), caBundle)
            .fetch("https://" + hostPort + "/blob");
    assertThat(Files.readAllBytes(got)).isEqualTo(blob);
    assertThat(Files.readString(proxyLog)).contains("CONNECT " + hostPort);
  }

  @Test
  void aHostNoProxyNamesIsReachedDirectly() throws Exception {
    String hostPort = origin.getHostAddress() + ":" + https.getAddress().getPort();
    Path got =
        fetcher(
                Map.of(
                    "HTTPS_PROXY",
                    "http://127.0.0.1:" + proxyPort,
                    "NO_PROXY",
                    "example.invalid," + origin.getHostAddress()),
                caBundle)
            .fetch("https://" + hostPort + "/blob");
    assertThat(Files.readAllBytes(got)).isEqualTo(blob);
    assertThat(Files.exists(proxyLog) ? Files.readString(proxyLog) : "").doesNotContain(hostPort);
  }

  /** A fetcher whose HTTP client is built the agent's way from {@code environment}. */
  private Fetch fetcher(Map<String, String> environment, Path bundle) throws IOException {
    var client =
        HttpClients.create(new HttpClients.Network(bundle, environment), Duration.ofSeconds(10));
    BlobFetcher fetcher =
        new BlobFetcher(new StoreLayout(tmp.resolve("state")), 2, Duration.ofSeconds(10), client);
    return url -> fetcher.fetch(url, Digest.of(blob), (done, total) -> {});
  }

  private interface Fetch {
    Path fetch(String url) throws Exception;
  }

  private void serve(HttpExchange exchange) throws IOException {
    exchange.sendResponseHeaders(200, blob.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(blob);
    }
    exchange.close();
  }

  /** A certificate for {@code address}, also as the PKCS12 keystore the origin serves it from. */
  private Path certificateFor(InetAddress address) throws Exception {
    Path crt = LocalRegistry.selfSigned(tmp, "origin", "IP:" + address.getHostAddress());
    Tools.run(
        tmp,
        "openssl",
        "pkcs12",
        "-export",
        "-in",
        crt.toString(),
        "-inkey",
        tmp.resolve("origin.key").toString(),
        "-passout",
        "pass:strata",
        "-out",
        tmp.resolve("origin.p12").toString());
    return crt;
  }

  private SSLContext serverContext() throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(tmp.resolve("origin.p12"))) {
      store.load(in, "strata".toCharArray());
    }
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(store, "strata".toCharArray());
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys.getKeyManagers(), null, null);
    return context;
  }

  private static InetAddress nonLoopbackAddress() throws IOException {
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!nic.isUp() || nic.isLoopback()) {
        continue;
      }
      for (InetAddress address : Collections.list(nic.getInetAddresses())) {
        if (address instanceof Inet4Address && !address.isLoopbackAddress()) {
          return address;
        }
      }
    }
    return null;
  }

  private void awaitListening(int port) throws Exception {
    Instant deadline = Instant.now().plusSeconds(10);
    while (Instant.now().isBefore(deadline)) {
      if (!proxy.isAlive()) {
        throw new IOException(
            "tinyproxy exited: " + Files.readString(tmp.resolve("tinyproxy.out")));
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException e) {
        Thread.sleep(50);
      }
    }
    throw new IOException("tinyproxy did not listen on " + port);
  }
}
