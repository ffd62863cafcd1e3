package io.strata.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Registry logins read from a {@code kubernetes.io/dockerconfigjson} Secret's {@code
 * .dockerconfigjson}: {@code {"auths": {"host[:port]": {"auth": base64(user:password)}}}}, or
 * {@code username} and {@code password} given apart. Keys may carry a scheme or a path, as {@code
 * docker login} writes them; they are matched by host and port only.
 */
public final class Credentials {
  /** One login. */
  public record Login(String username, String password) {
    @Override
    public String toString() {
      return "Login[" + username + ", password hidden]";
    }
  }

  public static final Credentials NONE = new Credentials(Map.of());

  private final Map<String, Login> byHost;

  private Credentials(Map<String, Login> byHost) {
    this.byHost = Map.copyOf(byHost);
  }

  public static Credentials fromDockerConfigJson(byte[] json) {
    JsonNode auths;
    try {
      auths = new ObjectMapper().readTree(json).path("auths");
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "the pull secret is not JSON"); // no detail: it would quote the secret
    }
    if (!auths.isObject()) {
      throw new IllegalArgumentException("the pull secret has no \"auths\" object");
    }
    Map<String, Login> logins = new HashMap<>();
    for (Map.Entry<String, JsonNode> entry : auths.properties()) {
      String host = hostOf(entry.getKey());
      JsonNode value = entry.getValue();
      String username = value.path("username").asText(null);
      String password = value.path("password").asText(null);
      String auth = value.path("auth").asText(null);
      if (auth != null && !auth.isEmpty()) {
        String decoded;
        try {
          decoded = new String(Base64.getDecoder().decode(auth.trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              "the pull secret's auth for " + host + " is not base64");
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
          throw new IllegalArgumentException(
              "the pull secret's auth for " + host + " is not user:password");
        }
        username = decoded.substring(0, colon);
        password = decoded.substring(colon + 1);
      }
      if (username != null && password != null) {
        logins.put(host, new Login(username, password));
      }
    }
    return new Credentials(logins);
  }

  /** The login for {@code host} ({@code host[:port]}, as in an image reference), if any. */
  public Optional<Login> forHost(String host) {
    return Optional.ofNullable(byHost.get(host.toLowerCase(Locale.ROOT)));
  }

  private static String hostOf(String key) {
    String host = key.trim();
    int scheme = host.indexOf("://");
    if (scheme >= 0) {
      host = host.substring(scheme + 3);
    }
    int slash = host.indexOf('/');
    if (slash >= 0) {
      host = host.substring(0, slash);
    }
    return host.toLowerCase(Locale.ROOT);
  }
}
