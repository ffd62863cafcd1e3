package io.strata.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.strata.crd.NodeLayerState;
import io.strata.doctor.Doctor;
import io.strata.sys.Syscalls;
import io.strata.testing.ExampleScenario;
import io.strata.testing.ProjectFiles;
import io.strata.testing.RootMounts;
import io.strata.testing.SimulatedNodes;
import io.strata.testing.TestResources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The examples end to end against the real API server, with the agent and the controller as
 * processes of this machine: the fast tier of what RealNodeIT proves with the chart's pods on a
 * real node.
 */
class ExampleE2EIT {
  private static final String NODE = "it-e2e-node";

  @RegisterExtension
  final SimulatedNodes running = SimulatedNodes.suite(Map.of("strata-test", "example-e2e"));

  private KubernetesClient client;
  private RootMounts node;

  @Test
  void theExamplesMountOnTheNodeAndGoAwayWhenDeleted() throws Exception {
    client = running.client();
    node = running.node(NODE, Map.of());
    running.agent(NODE, config -> config.fileUrlDirs(TestResources.fileUrlDirs()));
    running.controller("it-e2e-controller");

    new ExampleScenario(
            client,
            List.of(NODE),
            url ->
                ProjectFiles.examples()
                    .resolve("layers")
                    .resolve(url.substring(url.lastIndexOf('/') + 1))
                    .toUri()
                    .toString(),
            (n, target, path) -> {
              Path file = Path.of(target).resolve(path);
              return Files.exists(file) ? Files.readString(file) : null;
            },
            Duration.ofSeconds(60))
        .run();

    // The features the agent reports are the ones doctor finds on this node.
    assertThat(
            client
                .resources(NodeLayerState.class)
                .withName(NODE)
                .get()
                .getStatus()
                .agent
                .overlayFeatures)
        .isEqualTo(Doctor.overlayFeatures(node.stateDir, Syscalls.get()));
  }
}
