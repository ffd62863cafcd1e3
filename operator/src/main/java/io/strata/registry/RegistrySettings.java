package io.strata.registry;

import io.strata.fetch.Destinations;
import io.strata.fetch.HttpClients;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What the admin says about reaching the outside world: an extra CA bundle trusted for every HTTPS
 * fetch (layer URLs and registries) next to the system's, each registry's mirrors and whether it
 * may be reached over plain HTTP, and which addresses no request may go to. Proxies come from the
 * environment.
 */
public record RegistrySettings(Path caBundle, RegistryHosts hosts, Destinations destinations) {
  public static final RegistrySettings DEFAULT =
      new RegistrySettings(null, RegistryHosts.DEFAULT, Destinations.DEFAULT);

  public RegistrySettings(Path caBundle, RegistryHosts hosts) {
    this(caBundle, hosts, Destinations.DEFAULT);
  }

  /** A client that follows no redirect: {@link Destinations#send} follows them, checked. */
  public HttpClient httpClient(Duration connectTimeout) throws IOException {
    return HttpClients.create(new HttpClients.Network(caBundle, System.getenv()), connectTimeout);
  }
}
