package io.strata.registry;

import io.strata.fetch.HttpClients;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What the admin says about reaching the outside world: an extra CA bundle trusted for every HTTPS
 * fetch (layer URLs and registries) next to the system's, and each registry's mirrors and whether
 * it may be reached over plain HTTP. Proxies come from the environment.
 */
public record RegistrySettings(Path caBundle, RegistryHosts hosts) {
  public static final RegistrySettings DEFAULT = new RegistrySettings(null, RegistryHosts.DEFAULT);

  public HttpClient httpClient(Duration connectTimeout) throws IOException {
    return HttpClients.create(new HttpClients.Network(caBundle, System.getenv()), connectTimeout);
  }
}
