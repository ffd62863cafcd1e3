package io.strata.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.strata.controller.Controller;
import io.strata.controller.Uninstall;
import java.net.InetAddress;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "controller", description = "Run the leader-elected cluster controller.")
final class ControllerCommand implements Callable<Integer> {
  @Mixin ClusterOptions cluster;
  @Mixin RegistryOptions registries;

  @Option(
      names = "--node-grace",
      paramLabel = "DURATION",
      defaultValue = "${env:STRATA_NODE_GRACE:-PT5M}",
      description =
          "A node whose agent Lease expired this long ago no longer blocks deletions"
              + " (ISO-8601; default ${DEFAULT-VALUE}).")
  Duration nodeGrace;

  @Option(
      names = "--remove-finalizers",
      defaultValue = "${env:STRATA_REMOVE_FINALIZERS:-false}",
      description =
          "Uninstall step: take strata.io/teardown off every LayerSet and OverlayMount, then exit"
              + " (env STRATA_REMOVE_FINALIZERS).")
  boolean removeFinalizers;

  @Override
  public Integer call() throws Exception {
    String identity =
        System.getenv().getOrDefault("POD_NAME", InetAddress.getLocalHost().getHostName())
            + "-"
            + UUID.randomUUID().toString().substring(0, 8);
    KubernetesClient client = new KubernetesClientBuilder().build();
    if (removeFinalizers) {
      try (client) {
        System.out.println(
            "removed the finalizer from " + Uninstall.removeFinalizers(client) + " objects");
      }
      return 0;
    }
    Controller controller =
        new Controller(
                client,
                cluster.namespace,
                identity,
                cluster.httpPort,
                nodeGrace,
                () -> System.exit(1))
            .registries(registries.settings());
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  controller.close();
                  client.close();
                }));
    controller.start();
    Thread.currentThread().join();
    return 0;
  }
}
