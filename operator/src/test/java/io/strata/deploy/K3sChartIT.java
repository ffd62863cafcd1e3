package io.strata.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.strata.testing.NodeScenario;
import io.strata.testing.StrataCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * {@link NodeScenario}, the real-node test's scenario, in a K3s node (Testcontainers) where a
 * Docker engine runs. Without one it skips, the only skip hack/allowed-skips.txt allows: RealNodeIT
 * runs the same scenario on a node of this machine.
 */
class K3sChartIT {
  /** The K3s image; override with -Dstrata.k3sImage=... (a mirror, another version). */
  private static final String K3S_IMAGE =
      System.getProperty("strata.k3sImage", "rancher/k3s:v1.33.4-k3s1");

  private static final String MOUNT_BASE = "/mnt/strata";

  @TempDir Path tmp;

  @Test
  void theChartInstalledInK3sRunsTheNodeScenario() throws Exception {
    assumeTrue(
        DockerClientFactory.instance().isDockerAvailable(),
        "no Docker engine here to run K3s in; RealNodeIT runs the same scenario on this machine");
    try (K3sContainer k3s = new K3sContainer(DockerImageName.parse(K3S_IMAGE))) {
      k3s.start();
      // The mount base as DESIGN.md section 3 prepares it: a shared mount of its own.
      exec(
          k3s,
          "sh",
          "-c",
          "mkdir -p "
              + MOUNT_BASE
              + " && mount --bind "
              + MOUNT_BASE
              + " "
              + MOUNT_BASE
              + " && mount --make-private "
              + MOUNT_BASE
              + " && mount --make-shared "
              + MOUNT_BASE);
      Path kubeconfig = Files.writeString(tmp.resolve("kubeconfig"), k3s.getKubeConfigYaml());
      try (KubernetesClient client =
          new KubernetesClientBuilder()
              .withConfig(Config.fromKubeconfig(k3s.getKubeConfigYaml()))
              .build()) {
        List<String> nodes =
            client.nodes().list().getItems().stream().map(n -> n.getMetadata().getName()).toList();
        assertThat(nodes).hasSize(1);
        new NodeScenario(new K3sNode(k3s, client, kubeconfig, nodes.get(0))).run();
      }
    }
  }

  /** The K3s container as the scenario's node: its host is the container. */
  private record K3sNode(
      K3sContainer k3s, KubernetesClient client, Path kubeconfig, String nodeName)
      implements StrataCluster {
    @Override
    public int apiServerPort() {
      return 6443;
    }

    @Override
    public Path mountBase() {
      return Path.of(MOUNT_BASE);
    }

    @Override
    public Path kubeletDir() {
      return Path.of("/var/lib/kubelet");
    }

    @Override
    public String onHost(String... command) throws Exception {
      return exec(k3s, command);
    }

    @Override
    public void importImages(Path... tars) throws Exception {
      for (Path tar : tars) {
        String inside = "/tmp/" + tar.getFileName();
        k3s.copyFileToContainer(MountableFile.forHostPath(tar), inside);
        exec(k3s, "ctr", "-n", "k8s.io", "images", "import", inside);
      }
    }
  }

  private static String exec(K3sContainer k3s, String... command) throws Exception {
    ExecResult result = k3s.execInContainer(command);
    assertThat(result.getExitCode())
        .as(String.join(" ", command) + ": " + result.getStderr())
        .isZero();
    return result.getStdout();
  }
}
