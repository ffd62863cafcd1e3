package io.strata.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.strata.testing.Consistently;
import io.strata.testing.ControlPlane;
import io.strata.testing.Eventually;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The controller's scheduling labels on real Nodes: each key on exactly the nodes that hold it,
 * every change to one Node in one patch, and nobody else's labels touched.
 */
class NodeLabelsIT {
  private static final String SUITE = "strata.io/test-suite";
  private static final List<String> NODES = List.of("it-labels-a", "it-labels-b", "it-labels-c");
  private static final String TOOLS = "layerset.strata.io/tools";
  private static final String EXAMPLE = "overlaymount.strata.io/example";

  private KubernetesClient client;
  private NodeLabels labels;

  @BeforeEach
  void createNodes() {
    client = ControlPlane.shared().adminClient();
    for (String name : NODES) {
      client
          .nodes()
          .resource(
              new NodeBuilder()
                  .withNewMetadata()
                  .withName(name)
                  .withLabels(Map.of(SUITE, "node-labels", "team", "blue"))
                  .endMetadata()
                  .build())
          .create();
    }
    labels = new NodeLabels(client);
  }

  @AfterEach
  void cleanUp() {
    labels.close();
    client.nodes().withLabel(SUITE, "node-labels").delete();
    client.close();
  }

  @Test
  void eachKeyIsOnExactlyTheNodesThatHoldItAndOtherLabelsStay() {
    labels.want(nodes(), TOOLS, "ready", Set.of("it-labels-a", "it-labels-b"));
    Eventually.within(
        Duration.ofSeconds(30),
        () -> assertThat(holding(TOOLS)).containsExactly("it-labels-a", "it-labels-b"));

    labels.want(nodes(), TOOLS, "ready", Set.of("it-labels-b"));
    Eventually.within(
        Duration.ofSeconds(30), () -> assertThat(holding(TOOLS)).containsExactly("it-labels-b"));
    assertThat(nodes())
        .allSatisfy(
            node -> assertThat(node.getMetadata().getLabels()).containsEntry("team", "blue"));

    labels.want(nodes(), TOOLS, "ready", Set.of());
    Eventually.within(Duration.ofSeconds(30), () -> assertThat(holding(TOOLS)).isEmpty());
  }

  @Test
  void twoKeysChangingTogetherAreOnePatchOfTheNode() throws Exception {
    AtomicInteger modified = new AtomicInteger();
    try (Watch watch =
        client
            .nodes()
            .withName("it-labels-c")
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, Node node) {
                    if (action == Action.MODIFIED) {
                      modified.incrementAndGet();
                    }
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                })) {
      List<Node> view = nodes();
      labels.want(view, TOOLS, "ready", Set.of("it-labels-c"));
      labels.want(view, EXAMPLE, "mounted", Set.of("it-labels-c"));

      Eventually.within(
          Duration.ofSeconds(30),
          () ->
              assertThat(client.nodes().withName("it-labels-c").get().getMetadata().getLabels())
                  .containsEntry(TOOLS, "ready")
                  .containsEntry(EXAMPLE, "mounted"));
      labels.want(nodes(), TOOLS, "ready", Set.of("it-labels-c")); // the cache catches up
      Consistently.during(Duration.ofSeconds(2), () -> assertThat(modified.get()).isEqualTo(1));
    }
  }

  private List<Node> nodes() {
    return client.nodes().withLabel(SUITE, "node-labels").list().getItems();
  }

  private List<String> holding(String key) {
    return nodes().stream()
        .filter(n -> n.getMetadata().getLabels().containsKey(key))
        .map(n -> n.getMetadata().getName())
        .sorted()
        .toList();
  }
}
