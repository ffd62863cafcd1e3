package io.strata.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.MountPhase;
import io.strata.crd.NodeLayerState.OverlayMountEntry;
import io.strata.crd.OverlayMount;
import io.strata.crd.StrataApi;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The examples' life cycle against a real API server with Strata's processes on this machine (the
 * fast tier; {@link NodeScenario} runs the whole installation on a real node): apply {@code
 * examples/} as they are (only the layer URLs pointed where the agent can read them), see the
 * OverlayMount Mounted with the right content on every node, delete both and see everything go.
 */
public final class ExampleScenario {
  /** Reads a file inside a node's mount, however that node is reached. */
  public interface NodeFiles {
    /** The content of {@code path} (under the mount target), or null when it does not exist. */
    String read(String node, String target, String path) throws Exception;
  }

  private final KubernetesClient client;
  private final List<String> nodes;
  private final UnaryOperator<String> layerUrl;
  private final NodeFiles files;
  private final Duration timeout;

  public ExampleScenario(
      KubernetesClient client,
      List<String> nodes,
      UnaryOperator<String> layerUrl,
      NodeFiles files,
      Duration timeout) {
    this.client = client;
    this.nodes = nodes;
    this.layerUrl = layerUrl;
    this.files = files;
    this.timeout = timeout;
  }

  public void run() throws Exception {
    LayerSet layerSet =
        Serialization.unmarshal(
            Files.readString(ProjectFiles.examples().resolve("layerset.yaml")), LayerSet.class);
    layerSet.getSpec().layers.forEach(l -> l.url = layerUrl.apply(l.url));
    OverlayMount mount =
        Serialization.unmarshal(
            Files.readString(ProjectFiles.examples().resolve("overlaymount.yaml")),
            OverlayMount.class);
    String name = mount.getMetadata().getName();
    client.resource(layerSet).serverSideApply();
    client.resource(mount).serverSideApply();

    Eventually.within(
        timeout,
        () -> {
          OverlayMount.Status status =
              client.resources(OverlayMount.class).withName(name).get().getStatus();
          assertThat(status).isNotNull();
          assertThat(status.desiredNodes).isEqualTo(nodes.size());
          assertThat(status.readyNodes).isEqualTo(nodes.size());
          for (String node : nodes) {
            assertThat(entry(node, name).phase).isEqualTo(MountPhase.Mounted);
            assertThat(client.nodes().withName(node).get().getMetadata().getLabels())
                .containsEntry(StrataApi.OVERLAYMOUNT_LABEL_PREFIX + name, "mounted");
          }
        });
    for (String node : nodes) {
      Eventually.within(
          timeout,
          () -> {
            NodeLayerState.Status status =
                client.resources(NodeLayerState.class).withName(node).get().getStatus();
            assertThat(status.cache).as(node + " status.cache").isNotNull();
            assertThat(status.cache.bytes).as("the example's bytes").isPositive();
            assertThat(status.cache.files).as("the example's files").isPositive();
            assertThat(status.cache.capacityBytes).isGreaterThan(status.cache.bytes);
            assertThat(status.agent.overlayFeatures).as(node + " overlayFeatures").isNotNull();
          });
    }
    for (String node : nodes) {
      String target = entry(node, name).target;
      assertThat(files.read(node, target, "usr/share/greeting/app.txt"))
          .isEqualTo("hello from the app layer\n");
      assertThat(files.read(node, target, "usr/share/greeting/base.txt"))
          .as("whited out by the app layer")
          .isNull();
    }

    client.resource(mount).delete();
    client.resource(layerSet).delete();
    Eventually.within(
        timeout,
        () -> {
          assertThat(client.resources(OverlayMount.class).withName(name).get()).isNull();
          assertThat(client.resources(LayerSet.class).withName(name).get()).isNull();
          for (String node : nodes) {
            assertThat(client.nodes().withName(node).get().getMetadata().getLabels())
                .doesNotContainKey(StrataApi.OVERLAYMOUNT_LABEL_PREFIX + name)
                .doesNotContainKey(StrataApi.LAYERSET_LABEL_PREFIX + name);
            NodeLayerState state = client.resources(NodeLayerState.class).withName(node).get();
            assertThat(state.getStatus().overlayMounts).isEmpty();
          }
        });
  }

  private OverlayMountEntry entry(String node, String name) {
    return NodeStates.overlayMount(client, node, name)
        .orElseThrow(() -> new AssertionError(node + " does not list " + name));
  }
}
