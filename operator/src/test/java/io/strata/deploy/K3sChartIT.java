package io.strata.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.strata.Version;
import io.strata.testing.ControlPlane;
import io.strata.testing.ExampleScenario;
import io.strata.testing.ProjectFiles;
import io.strata.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * The chart installed by Helm into a real K3s (Testcontainers), with the image Jib built imported
 * into its containerd, then {@link ExampleScenario}: the example OverlayMount reaches Mounted on
 * the node and goes away when deleted. Needs a Docker engine; where there is none (as on the
 * machine this project is built on) it skips, and ExampleE2EIT runs the same scenario against a
 * real API server with the processes on this machine.
 */
class K3sChartIT {
  /** The K3s image; override with -Dstrata.k3sImage=... (a mirror, another version). */
  private static final String K3S_IMAGE =
      System.getProperty("strata.k3sImage", "rancher/k3s:v1.33.4-k3s1");

  @TempDir Path tmp;

  @Test
  void theChartInstalledInK3sMountsTheExample() throws Exception {
    assumeTrue(
        DockerClientFactory.instance().isDockerAvailable(),
        "no Docker engine here to run K3s in; ExampleE2EIT runs the same scenario against a real"
            + " API server");
    Path image = ProjectFiles.root().resolve("operator/target/strata-image.tar");
    Tools.require(Files.isRegularFile(image), "the image " + image + " (./mvnw package -Pimage)");

    try (K3sContainer k3s = new K3sContainer(DockerImageName.parse(K3S_IMAGE))) {
      k3s.start();
      k3s.copyFileToContainer(MountableFile.forHostPath(image), "/tmp/strata-image.tar");
      exec(k3s, "ctr", "-n", "k8s.io", "images", "import", "/tmp/strata-image.tar");
      // The mount base as DESIGN.md section 3 prepares it: a shared mount of its own.
      exec(
          k3s,
          "sh",
          "-c",
          "mkdir -p /mnt/strata && mount --bind /mnt/strata /mnt/strata"
              + " && mount --make-private /mnt/strata && mount --make-shared /mnt/strata");
      try (Stream<Path> layers = Files.list(ProjectFiles.examples().resolve("layers"))) {
        for (Path layer : layers.toList()) {
          k3s.copyFileToContainer(
              MountableFile.forHostPath(layer), "/var/lib/strata/examples/" + layer.getFileName());
        }
      }
      Path kubeconfig = Files.writeString(tmp.resolve("kubeconfig"), k3s.getKubeConfigYaml());
      Tools.run(
          ProjectFiles.root(),
          ControlPlane.helm().toString(),
          "install",
          "strata",
          "charts/strata",
          "--kubeconfig",
          kubeconfig.toString(),
          "--namespace",
          "strata-system",
          "--create-namespace",
          "--set",
          "image.repository=strata",
          "--set",
          "image.tag=" + Version.get(),
          "--set",
          "image.pullPolicy=Never",
          "--set",
          "controller.replicas=1",
          "--wait",
          "--timeout",
          "5m");

      try (KubernetesClient client =
          new KubernetesClientBuilder()
              .withConfig(Config.fromKubeconfig(k3s.getKubeConfigYaml()))
              .build()) {
        List<String> nodes =
            client.nodes().list().getItems().stream().map(n -> n.getMetadata().getName()).toList();
        assertThat(nodes).hasSize(1);
        new ExampleScenario(
                client,
                nodes,
                url -> "file:///var/lib/strata/examples/" + url.substring(url.lastIndexOf('/') + 1),
                (node, target, path) -> {
                  ExecResult cat = k3s.execInContainer("cat", target + "/" + path);
                  return cat.getExitCode() == 0 ? cat.getStdout() : null;
                },
                Duration.ofMinutes(3))
            .run();
      }
    }
  }

  private static void exec(K3sContainer k3s, String... command) throws Exception {
    ExecResult result = k3s.execInContainer(command);
    assertThat(result.getExitCode())
        .as(String.join(" ", command) + ": " + result.getStderr())
        .isZero();
  }
}
