package io.strata.fetch;

import io.strata.fetch.FetchException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Set;

/**
 * Where Strata's HTTP requests may go. Layer URLs, registries, their mirrors, token realms and
 * every redirect among them are named by objects anyone who may create a LayerSet writes, and the
 * agent sends them from every node: a link-local address (a cloud's instance metadata at
 * 169.254.169.254, say) is refused unless the node allows it, and loopback (the node's own
 * services, when the agent shares its network) when the node denies it. Each request, and each hop
 * of a redirect, is checked before it is sent: the client itself never follows redirects.
 *
 * <p>The host is resolved for the check and again by the client to connect, so a name whose answer
 * changes in between (DNS rebinding) is not caught here; a node that must be sure blocks those
 * addresses in its network as well.
 */
public record Destinations(boolean allowLinkLocal, boolean denyLoopback) {
  /** Link-local refused, loopback allowed: what the agent does without flags. */
  public static final Destinations DEFAULT = new Destinations(false, false);

  private static final int MAX_REDIRECTS = 10;
  private static final Set<Integer> REDIRECTS = Set.of(301, 302, 303, 307, 308);

  /** Refuses {@code uri} when its host is, or resolves to, an address this node must not reach. */
  public void check(URI uri) throws RefusedException {
    String host = uri.getHost();
    if (host == null) {
      throw new RefusedException(Reason.ForbiddenUrl, uri + " names no host");
    }
    InetAddress[] addresses;
    try {
      addresses = InetAddress.getAllByName(host);
    } catch (UnknownHostException e) {
      return; // nothing to reach: the request fails as unreachable
    }
    for (InetAddress address : addresses) {
      if (!allowLinkLocal && address.isLinkLocalAddress()) {
        throw refused(uri, address, "link-local", "--allow-link-local");
      }
      if (denyLoopback && (address.isLoopbackAddress() || address.isAnyLocalAddress())) {
        throw refused(uri, address, "loopback", "no --deny-loopback (chart: fetch.allowLoopback)");
      }
    }
  }

  private static RefusedException refused(URI uri, InetAddress address, String kind, String how) {
    return new RefusedException(
        Reason.ForbiddenUrl,
        uri.getScheme()
            + "://"
            + uri.getAuthority()
            + " is "
            + kind
            + " ("
            + address.getHostAddress()
            + "), which this node does not fetch from; allow it with "
            + how);
  }

  /**
   * Sends {@code request} through {@code http} (a client that does not follow redirects), following
   * up to ten redirects itself and checking every hop first. A redirect to another host does not
   * carry the request's Authorization header along.
   */
  public <T> HttpResponse<T> send(
      HttpClient http, HttpRequest request, HttpResponse.BodyHandler<T> handler)
      throws IOException, InterruptedException {
    HttpRequest next = request;
    for (int hop = 0; ; hop++) {
      check(next.uri());
      HttpResponse<T> response = http.send(next, handler);
      String location = response.headers().firstValue("Location").orElse(null);
      if (!REDIRECTS.contains(response.statusCode()) || location == null) {
        return response;
      }
      discard(response);
      if (hop == MAX_REDIRECTS) {
        throw new IOException(request.uri() + " redirects more than " + MAX_REDIRECTS + " times");
      }
      next = redirected(next, next.uri().resolve(location), response.statusCode());
    }
  }

  private static HttpRequest redirected(HttpRequest from, URI to, int status) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(to);
    from.timeout().ifPresent(builder::timeout);
    boolean sameOrigin =
        to.getScheme().equalsIgnoreCase(from.uri().getScheme())
            && to.getAuthority().equalsIgnoreCase(from.uri().getAuthority());
    from.headers()
        .map()
        .forEach(
            (name, values) -> {
              if (sameOrigin || !name.equalsIgnoreCase("Authorization")) {
                values.forEach(value -> builder.header(name, value));
              }
            });
    boolean keepMethod = status == 307 || status == 308;
    return builder
        .method(keepMethod ? from.method() : "GET", HttpRequest.BodyPublishers.noBody())
        .build();
  }

  private static void discard(HttpResponse<?> response) throws IOException {
    if (response.body() instanceof InputStream body) {
      body.close();
    }
  }
}
