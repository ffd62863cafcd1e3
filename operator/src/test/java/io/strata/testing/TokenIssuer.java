package io.strata.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A token service for the distribution registry's {@code token} auth, as small as the protocol
 * allows: checks the Basic login, grants the scope asked for, and signs an RS256 JWT whose {@code
 * x5c} header carries the certificate the registry trusts. Tokens live {@code lifetime}, so tests
 * can watch a client renew them.
 */
public final class TokenIssuer implements AutoCloseable {
  public static final String SERVICE = "strata-test-registry";
  public static final String ISSUER = "strata-test-issuer";

  private final HttpServer server;
  private final Path certificate;
  private final PrivateKey key;
  private final String x5c;
  private final Duration lifetime;
  private final AtomicInteger issued = new AtomicInteger();
  private volatile Instant lastExpiry = Instant.EPOCH;
  private final List<String> scopes = java.util.Collections.synchronizedList(new ArrayList<>());

  public TokenIssuer(Path dir, Duration lifetime) throws Exception {
    this.certificate = LocalRegistry.selfSigned(dir, "token-signer");
    String pem = Files.readString(dir.resolve("token-signer.key"));
    byte[] der =
        Base64.getMimeDecoder()
            .decode(pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", ""));
    this.key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
    X509Certificate cert;
    try (var in = Files.newInputStream(certificate)) {
      cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    this.x5c = Base64.getEncoder().encodeToString(cert.getEncoded());
    this.lifetime = lifetime;
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/token", this::handle);
    server.start();
  }

  public String realm() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/token";
  }

  public Path certificate() {
    return certificate;
  }

  /** How many tokens were handed out so far. */
  /** When the registry stops accepting the last token issued (its "exp" plus its leeway). */
  public Instant lastExpiry() {
    return lastExpiry;
  }

  public int issued() {
    return issued.get();
  }

  /** Every scope a token was asked for. */
  public List<String> scopes() {
    return List.copyOf(scopes);
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String expected =
          "Basic "
              + Base64.getEncoder()
                  .encodeToString(
                      (LocalRegistry.USER + ":" + LocalRegistry.PASSWORD)
                          .getBytes(StandardCharsets.UTF_8));
      if (!expected.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
        exchange.sendResponseHeaders(401, -1);
        return;
      }
      Map<String, List<String>> query = query(exchange.getRequestURI().getRawQuery());
      List<Map<String, Object>> access = new ArrayList<>();
      for (String scope : query.getOrDefault("scope", List.of())) {
        scopes.add(scope);
        String[] parts = scope.split(":");
        if (parts.length == 3) {
          access.add(
              Map.of("type", parts[0], "name", parts[1], "actions", List.of(parts[2].split(","))));
        }
      }
      Instant now = Instant.now();
      Map<String, Object> claims = new LinkedHashMap<>();
      claims.put("iss", ISSUER);
      claims.put("sub", LocalRegistry.USER);
      claims.put("aud", SERVICE);
      claims.put("iat", now.getEpochSecond());
      // The registry accepts tokens up to a minute past "exp" (its leeway): pull it back by as
      // much, so a token really stops working after its lifetime.
      claims.put("nbf", now.getEpochSecond() - 90);
      long exp = now.plus(lifetime).minusSeconds(60).getEpochSecond();
      claims.put("exp", exp);
      lastExpiry = Instant.ofEpochSecond(exp).plusSeconds(60);
      claims.put("jti", UUID.randomUUID().toString());
      claims.put("access", access);
      String token = sign(claims);
      issued.incrementAndGet();
      byte[] body =
          new ObjectMapper()
              .writeValueAsBytes(
                  Map.of(
                      "token",
                      token,
                      "expires_in",
                      lifetime.toSeconds(),
                      "issued_at",
                      now.toString()));
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  private String sign(Map<String, Object> claims) throws IOException {
    ObjectMapper json = new ObjectMapper();
    Base64.Encoder url = Base64.getUrlEncoder().withoutPadding();
    String header =
        url.encodeToString(
            json.writeValueAsBytes(Map.of("alg", "RS256", "typ", "JWT", "x5c", List.of(x5c))));
    String payload = url.encodeToString(json.writeValueAsBytes(claims));
    try {
      Signature signature = Signature.getInstance("SHA256withRSA");
      signature.initSign(key);
      signature.update((header + "." + payload).getBytes(StandardCharsets.US_ASCII));
      return header + "." + payload + "." + url.encodeToString(signature.sign());
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException(e);
    }
  }

  private static Map<String, List<String>> query(String raw) {
    Map<String, List<String>> query = new LinkedHashMap<>();
    if (raw == null) {
      return query;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String name =
          URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String value =
          eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      query.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
    }
    return query;
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
