package io.strata.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.strata.agent.Agent;
import io.strata.controller.Controller;
import io.strata.crd.LayerSet;
import io.strata.oci.Digest;
import io.strata.testing.Eventually;
import io.strata.testing.ProjectFiles;
import io.strata.testing.SimulatedNodes;
import io.strata.testing.TestResources;
import io.strata.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Strata's alerts and metrics through Prometheus's own tool: {@code promtool check rules} and
 * {@code promtool test rules} (each alert fires when it should and not otherwise, on synthetic
 * series), and {@code promtool check metrics} on real scrapes of an agent and a controller that
 * have something to say: a LayerSet failing on the node, and a mount waiting for it.
 */
class PrometheusRulesIT {
  private static final Map<String, String> SUITE = Map.of("strata-test", "prometheus");
  private static final Path RULES =
      ProjectFiles.root().resolve("charts/strata/files/prometheus-rules.yaml");

  @RegisterExtension final SimulatedNodes running = SimulatedNodes.suite(SUITE);
  @TempDir Path tmp;

  @Test
  void theRulesAreValidAndEachAlertFiresWhenItShouldAndOnlyThen() throws Exception {
    Tools.requireCommand("promtool");
    assertThat(Tools.run(tmp, "promtool", "check", "rules", RULES.toString()))
        .contains("SUCCESS: 8 rules found");
    Path tests = ProjectFiles.root().resolve("operator/src/test/prometheus");
    assertThat(Tools.run(tests, "promtool", "test", "rules", "prometheus-rules.test.yaml"))
        .contains("SUCCESS");
  }

  @Test
  void realScrapesOfTheAgentAndTheControllerPassPromtoolsLint() throws Exception {
    Tools.requireCommand("promtool");
    KubernetesClient client = running.client();
    running.node("it-prom-node", Map.of("pool", "prom"));
    Agent agent = running.agent("it-prom-node");
    Controller controller = running.controller("it-prom-controller");
    // A file URL the node does not allow: the LayerSet fails there, the mount waits for it.
    LayerSet layerSet =
        TestResources.layerSet(
            "it-prom-set",
            SUITE,
            "file:///nonexistent/strata-prom.tar",
            Digest.parse("sha256:" + "f".repeat(64)));
    layerSet.getSpec().nodeSelector =
        new LabelSelectorBuilder().addToMatchLabels("pool", "prom").build();
    client.resource(layerSet).create();
    client.resource(TestResources.overlayMount("it-prom-mount", SUITE, "it-prom-set")).create();

    Eventually.within(
        Duration.ofSeconds(60),
        () -> {
          assertThat(agent.scrapeMetrics())
              .contains("strata_layerset_failures_total{reason=\"ForbiddenUrl\"} 1.0")
              .contains("strata_layersets{phase=\"Failed\"} 1.0")
              .contains("strata_cache_budget_bytes ")
              .contains("strata_cache_filesystem_free_bytes ")
              .contains("strata_cache_filesystem_size_bytes ");
          assertThat(controller.scrapeMetrics())
              .contains("strata_layerset_nodes{layerset=\"it-prom-set\",state=\"failed\"} 1.0")
              .contains("strata_layerset_nodes{layerset=\"it-prom-set\",state=\"desired\"} 1.0")
              .contains(
                  "strata_overlaymount_nodes{overlaymount=\"it-prom-mount\",state=\"desired\"}"
                      + " 1.0");
        });
    lint(agent.scrapeMetrics(), "agent");
    lint(controller.scrapeMetrics(), "controller");
  }

  private void lint(String scrape, String process) throws Exception {
    Path file = tmp.resolve(process + ".prom");
    Files.writeString(file, scrape);
    String problems = Tools.sh(tmp, "promtool check metrics < " + file + " 2>&1 || true");
    assertThat(problems).as("promtool check metrics on the %s's /metrics", process).isBlank();
  }
}
