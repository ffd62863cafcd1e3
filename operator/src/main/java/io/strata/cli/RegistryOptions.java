package io.strata.cli;

import io.strata.fetch.Destinations;
import io.strata.registry.RegistryHosts;
import io.strata.registry.RegistrySettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** How the processes that fetch or resolve images reach registries and HTTPS servers. */
final class RegistryOptions {
  @Option(
      names = "--ca-bundle",
      paramLabel = "FILE",
      defaultValue = "${env:STRATA_CA_BUNDLE}",
      description =
          "PEM certificates trusted for HTTPS next to the system's (env STRATA_CA_BUNDLE).")
  Path caBundle;

  @Option(
      names = "--registry-mirror",
      paramLabel = "REGISTRY=URL",
      split = ",",
      defaultValue = "${env:STRATA_REGISTRY_MIRRORS}",
      description =
          "A mirror tried before REGISTRY, e.g. registry.example=https://mirror.example; repeatable"
              + " (env STRATA_REGISTRY_MIRRORS, comma-separated).")
  List<String> mirrors = List.of();

  @Option(
      names = "--insecure-registry",
      paramLabel = "HOST[:PORT]",
      split = ",",
      defaultValue = "${env:STRATA_INSECURE_REGISTRIES}",
      description =
          "A registry that may be reached over plain HTTP (loopback ones always may); repeatable"
              + " (env STRATA_INSECURE_REGISTRIES, comma-separated).")
  List<String> insecure = List.of();

  @Option(
      names = "--allow-link-local",
      defaultValue = "${env:STRATA_ALLOW_LINK_LOCAL:-false}",
      description =
          "Fetch from link-local addresses (169.254.0.0/16, fe80::/10: cloud metadata services"
              + " live there), refused by default (env STRATA_ALLOW_LINK_LOCAL).")
  boolean allowLinkLocal;

  @Option(
      names = "--deny-loopback",
      defaultValue = "${env:STRATA_DENY_LOOPBACK:-false}",
      description =
          "Refuse to fetch from loopback addresses, the node's own services when the agent shares"
              + " its network; the chart sets it unless fetch.allowLoopback (env"
              + " STRATA_DENY_LOOPBACK).")
  boolean denyLoopback;

  RegistrySettings settings() {
    if (caBundle != null && !Files.isReadable(caBundle)) {
      throw new IllegalArgumentException("--ca-bundle " + caBundle + " is not a readable file");
    }
    return new RegistrySettings(
        caBundle,
        RegistryHosts.parse(
            mirrors == null ? List.of() : mirrors, insecure == null ? List.of() : insecure),
        new Destinations(allowLinkLocal, denyLoopback));
  }
}
