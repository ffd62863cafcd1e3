package io.strata.testing;

import static io.strata.testing.Tools.run;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * Debian's {@code docker-registry} (the CNCF distribution registry) on a loopback port, with its
 * storage in a temporary directory: plain, with TLS and htpasswd logins, or with token auth from a
 * {@link TokenIssuer}. Stopped when closed.
 */
public final class LocalRegistry implements AutoCloseable {
  public static final String USER = "strata";
  public static final String PASSWORD = "s3cret-Pa55";

  private final Process process;
  private final int port;
  private final Path certificate;
  private final Path log;

  private LocalRegistry(Process process, int port, Path certificate, Path log) {
    this.process = process;
    this.port = port;
    this.certificate = certificate;
    this.log = log;
  }

  /** No TLS, no logins. */
  public static LocalRegistry plain(Path dir) throws IOException, InterruptedException {
    return start(dir, "", null);
  }

  /** TLS with a certificate for 127.0.0.1 ({@link #certificate()}), htpasswd logins. */
  public static LocalRegistry tlsWithBasicAuth(Path dir) throws IOException, InterruptedException {
    Tools.requireCommand("htpasswd");
    Tools.requireCommand("openssl");
    Files.createDirectories(dir);
    Path cert = selfSigned(dir, "registry");
    run(dir, "htpasswd", "-Bbc", dir.resolve("htpasswd").toString(), USER, PASSWORD);
    String extra =
        """
          tls:
            certificate: %s
            key: %s
        auth:
          htpasswd:
            realm: strata-test
            path: %s
        """
            .formatted(cert, dir.resolve("registry.key"), dir.resolve("htpasswd"));
    return start(dir, extra, cert);
  }

  /** Plain HTTP with token auth: the registry sends clients to {@code issuer} for tokens. */
  public static LocalRegistry withTokenAuth(Path dir, TokenIssuer issuer)
      throws IOException, InterruptedException {
    String extra =
        """
        auth:
          token:
            realm: %s
            service: %s
            issuer: %s
            rootcertbundle: %s
        """
            .formatted(
                issuer.realm(), TokenIssuer.SERVICE, TokenIssuer.ISSUER, issuer.certificate());
    return start(dir, extra, null);
  }

  /** A self-signed certificate for 127.0.0.1 and localhost: {@code name.crt}, {@code name.key}. */
  public static Path selfSigned(Path dir, String name) throws IOException, InterruptedException {
    return selfSigned(dir, name, "IP:127.0.0.1,DNS:localhost");
  }

  /** A self-signed certificate for {@code subjectAltName} (openssl's syntax). */
  public static Path selfSigned(Path dir, String name, String subjectAltName)
      throws IOException, InterruptedException {
    Tools.requireCommand("openssl");
    Files.createDirectories(dir);
    Path cert = dir.resolve(name + ".crt");
    run(
        dir,
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=strata-test-" + name,
        "-addext",
        "subjectAltName=" + subjectAltName,
        "-keyout",
        dir.resolve(name + ".key").toString(),
        "-out",
        cert.toString());
    return cert;
  }

  private static LocalRegistry start(Path dir, String extra, Path certificate)
      throws IOException, InterruptedException {
    Tools.requireCommand("docker-registry");
    Files.createDirectories(dir);
    int port = freePort();
    Path config = dir.resolve("config.yml");
    String http =
        """
        version: 0.1
        log:
          level: warn
          accesslog:
            disabled: true
        storage:
          filesystem:
            rootdirectory: %s
          delete:
            enabled: true
        http:
          addr: 127.0.0.1:%d
          secret: strata-test-secret
        """
            .formatted(dir.resolve("storage"), port);
    // The TLS block belongs under http:, the auth block at the top level.
    String tls = extra.startsWith("  tls:") ? extra.substring(0, extra.indexOf("auth:")) : "";
    String auth = extra.substring(tls.length());
    Files.writeString(config, http + tls + auth);
    Path log = dir.resolve("registry.log");
    Process process =
        new ProcessBuilder("docker-registry", "serve", config.toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    LocalRegistry registry = new LocalRegistry(process, port, certificate, log);
    registry.awaitListening();
    return registry;
  }

  private void awaitListening() throws IOException, InterruptedException {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new IOException("docker-registry exited: " + Files.readString(log));
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException e) {
        Thread.sleep(100);
      }
    }
    throw new IOException(
        "docker-registry did not listen on " + port + ": " + Files.readString(log));
  }

  public static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** {@code 127.0.0.1:<port>}, as an image reference names it. */
  public String host() {
    return "127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  /** The TLS certificate clients must trust, or null for a plain registry. */
  public Path certificate() {
    return certificate;
  }

  /** Stops the registry (to test an unreachable one); {@link #close()} is then a no-op. */
  public void stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
  }

  @Override
  public void close() {
    try {
      stop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
