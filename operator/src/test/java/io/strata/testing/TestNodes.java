package io.strata.testing;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.strata.crd.NodeLayerState;
import io.strata.crd.StrataApi;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Simulated nodes: Node objects with labels, and {@code strata agent} processes for them. */
public final class TestNodes {
  private TestNodes() {}

  /** Creates Node {@code name} with {@code labels} (no kubelet: only the object). */
  public static void create(KubernetesClient client, String name, Map<String, String> labels) {
    client
        .nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName(name)
                .addToLabels(labels)
                .endMetadata()
                .build())
        .create();
  }

  /** Deletes Node {@code name} and the NodeLayerState its agent wrote. */
  public static void delete(KubernetesClient client, String name) {
    client.nodes().withName(name).delete();
    client.resources(NodeLayerState.class).withName(name).delete();
  }

  /**
   * {@code strata agent} for {@code node} as a process of its own, on this JVM's classpath,
   * reaching the API server through {@code kubeconfig}; {@code jvmOptions} before the main class,
   * {@code agentOptions} after the defaults. Without a CSI plugin: many such agents share this
   * host, and kubelet's directory is not theirs.
   */
  public static ProcessBuilder agentProcess(
      String node,
      Path stateDir,
      Path mountBase,
      Path kubeconfig,
      List<String> jvmOptions,
      String... agentOptions) {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.add("--enable-native-access=ALL-UNNAMED");
    command.addAll(jvmOptions);
    command.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            "io.strata.cli.Main",
            "agent",
            "--node-name=" + node,
            "--state-dir=" + stateDir,
            "--mount-base=" + mountBase,
            "--namespace=" + StrataApi.DEFAULT_NAMESPACE,
            "--http-port=0",
            "--csi=false"));
    command.addAll(List.of(agentOptions));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("KUBECONFIG", kubeconfig.toString());
    return builder;
  }
}
