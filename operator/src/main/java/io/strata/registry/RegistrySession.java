package io.strata.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.fetch.Destinations;
import io.strata.fetch.FetchException.Reason;
import io.strata.fetch.RefusedException;
import io.strata.registry.Credentials.Login;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Talks to one registry endpoint about one repository with one login, answering its authentication
 * challenge: {@code Basic}, or {@code Bearer} with a token from the challenge's realm scoped to
 * pulling this repository, kept until it expires and fetched again when the registry stops
 * accepting it.
 */
final class RegistrySession {
  private static final Pattern PARAM =
      Pattern.compile("([A-Za-z][A-Za-z0-9_-]*)\\s*=\\s*(?:\"((?:[^\"\\\\]|\\\\.)*)\"|([^\\s,]*))");

  private final HttpClient http;
  private final String repository;
  private final Login login;
  private final Duration timeout;
  private volatile String authorization;
  private volatile Instant expires = Instant.MAX;

  private final Destinations destinations;

  /** A token response is a few KiB; past this it is not read into memory. */
  static final int MAX_TOKEN_RESPONSE_BYTES = 1 << 20;

  RegistrySession(
      HttpClient http,
      Destinations destinations,
      String repository,
      Login login,
      Duration timeout) {
    this.http = http;
    this.destinations = destinations;
    this.repository = repository;
    this.login = login;
    this.timeout = timeout;
  }

  /**
   * Sends {@code request} with what this session knows; a 401 with a challenge it can answer is
   * answered and the request sent once more. Any other answer is returned as it is.
   */
  <T> HttpResponse<T> send(HttpRequest.Builder request, HttpResponse.BodyHandler<T> handler)
      throws IOException, InterruptedException {
    String known = Instant.now().isBefore(expires) ? authorization : null;
    HttpResponse<T> response = destinations.send(http, withAuthorization(request, known), handler);
    if (response.statusCode() != 401) {
      return response;
    }
    String challenge = response.headers().firstValue("WWW-Authenticate").orElse(null);
    if (challenge == null) {
      return response;
    }
    discard(response);
    String answer = answer(challenge);
    if (answer == null) {
      throw new RefusedException(
          Reason.Unauthorized,
          request.build().uri().getAuthority()
              + " asks for credentials for "
              + repository
              + " and the LayerSet names no pull secret with a login for it");
    }
    return destinations.send(http, withAuthorization(request, answer), handler);
  }

  private static HttpRequest withAuthorization(HttpRequest.Builder request, String authorization) {
    HttpRequest.Builder copy = request.copy();
    if (authorization != null) {
      copy.setHeader("Authorization", authorization);
    }
    return copy.build();
  }

  private static void discard(HttpResponse<?> response) throws IOException {
    if (response.body() instanceof InputStream in) {
      in.close();
    }
  }

  /** The Authorization header that answers {@code challenge}, or null when nothing can. */
  private String answer(String challenge) throws IOException, InterruptedException {
    String scheme = challenge.trim().split("\\s+", 2)[0].toLowerCase(Locale.ROOT);
    Map<String, String> params = params(challenge.trim().substring(scheme.length()));
    switch (scheme) {
      case "basic" -> {
        if (login == null) {
          return null;
        }
        authorization = basic(login);
        expires = Instant.MAX;
        return authorization;
      }
      case "bearer" -> {
        return token(params);
      }
      default ->
          throw new RefusedException(
              Reason.Unauthorized,
              "the registry asks for " + scheme + " authentication, which Strata does not speak");
    }
  }

  /** A token from the challenge's realm for pulling this repository (anonymous without a login). */
  private String token(Map<String, String> params) throws IOException, InterruptedException {
    String realm = params.get("realm");
    URI realmUri = realm == null ? null : URI.create(realm);
    if (realmUri == null
        || !("https".equals(realmUri.getScheme()) || "http".equals(realmUri.getScheme()))) {
      throw new RefusedException(
          Reason.Unauthorized, "the registry's token realm " + realm + " is not an http(s) URL");
    }
    StringBuilder query = new StringBuilder();
    if (params.containsKey("service")) {
      query.append("service=").append(encode(params.get("service")));
    }
    String scope = params.getOrDefault("scope", "repository:" + repository + ":pull");
    query.append(query.isEmpty() ? "" : "&").append("scope=").append(encode(scope));
    URI uri = URI.create(realm + (realm.contains("?") ? "&" : "?") + query);
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout).GET();
    if (login != null) {
      request.header("Authorization", basic(login));
    }
    HttpResponse<InputStream> response =
        destinations.send(http, request.build(), HttpResponse.BodyHandlers.ofInputStream());
    byte[] bytes;
    try (InputStream in = response.body()) {
      bytes = in.readNBytes(MAX_TOKEN_RESPONSE_BYTES + 1);
    }
    if (bytes.length > MAX_TOKEN_RESPONSE_BYTES) {
      throw new RefusedException(
          Reason.Unauthorized,
          "the token service " + uri.getAuthority() + " sent more than 1 MiB for a token");
    }
    if (response.statusCode() == 401 || response.statusCode() == 403) {
      throw new RefusedException(
          Reason.Unauthorized,
          login == null
              ? "the token service "
                  + uri.getAuthority()
                  + " refused anonymous access to "
                  + repository
                  + ": there is no pull secret with a login for it"
              : "the token service "
                  + uri.getAuthority()
                  + " refused the pull secret's login for "
                  + repository);
    }
    if (response.statusCode() != 200) {
      throw new IOException(
          "the token service " + uri.getAuthority() + " answered HTTP " + response.statusCode());
    }
    JsonNode body = new ObjectMapper().readTree(bytes);
    String token = body.path("token").asText(body.path("access_token").asText(""));
    if (token.isEmpty()) {
      throw new RefusedException(
          Reason.Unauthorized, "the token service " + uri.getAuthority() + " gave no token");
    }
    long seconds = Math.max(body.path("expires_in").asLong(60), 60); // the spec's minimum
    authorization = "Bearer " + token;
    expires = Instant.now().plusSeconds(seconds - Math.min(10, seconds / 10));
    return authorization;
  }

  static Map<String, String> params(String text) {
    Map<String, String> params = new HashMap<>();
    Matcher m = PARAM.matcher(text);
    while (m.find()) {
      String value = m.group(2) != null ? m.group(2).replaceAll("\\\\(.)", "$1") : m.group(3);
      params.putIfAbsent(m.group(1).toLowerCase(Locale.ROOT), value);
    }
    return params;
  }

  private static String basic(Login login) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString(
                (login.username() + ":" + login.password()).getBytes(StandardCharsets.UTF_8));
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }
}
