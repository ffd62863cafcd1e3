package io.strata.cli;

import io.strata.crd.StrataApi;
import picocli.CommandLine.Option;

/** Options of the processes that talk to the cluster. */
final class ClusterOptions {
  @Option(
      names = "--namespace",
      paramLabel = "NS",
      defaultValue = "${env:STRATA_NAMESPACE:-" + StrataApi.DEFAULT_NAMESPACE + "}",
      description =
          "Strata's namespace: Leases, Secrets (env STRATA_NAMESPACE; default ${DEFAULT-VALUE}).")
  String namespace;

  @Option(
      names = "--http-port",
      paramLabel = "N",
      defaultValue = "${env:STRATA_HTTP_PORT:-8080}",
      description =
          "Health and metrics port; 0 turns it off (env STRATA_HTTP_PORT; default ${DEFAULT-VALUE}).")
  int httpPort;
}
