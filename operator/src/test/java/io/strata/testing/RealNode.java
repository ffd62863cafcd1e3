package io.strata.testing;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A real Kubernetes node of this machine for the tests that need one: {@code hack/node.sh} starts
 * etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd and kubelet, and
 * returns once the Node is Ready. One node serves every test class of the JVM that declares
 * {@code @ExtendWith(RealNode.class)} and takes a {@link Node} parameter; it is brought down
 * (processes, mounts, cgroups, sysctls) when the test run ends, when the JVM is interrupted, and by
 * the next run if this one was killed.
 *
 * <p>It needs root, the binaries of {@code hack/build-control-plane.sh}, containerd and runc, and
 * the images of {@code hack/build-node-images.sh}; without them the tests fail under CI and {@code
 * hack/test.sh}, and are skipped elsewhere with the reason.
 */
public final class RealNode implements BeforeAllCallback, ParameterResolver {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(RealNode.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    node(context);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == Node.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return node(context);
  }

  private static Node node(ExtensionContext context) {
    return context
        .getRoot()
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent(Node.class, k -> Node.start(), Node.class);
  }

  /** The running node; closed (brought down) with the test run's root context. */
  public static final class Node implements StrataCluster, AutoCloseable {
    private final Path dir;
    private final Map<String, String> env;
    private final Thread onInterrupt;

    private Node(Path dir, Map<String, String> env) {
      this.dir = dir;
      this.env = env;
      this.onInterrupt = new Thread(this::down, "real-node-down");
    }

    static Node start() {
      Tools.requireRoot("kubelet, containerd and mounts need it");
      Path dir = Path.of(System.getProperty("java.io.tmpdir"), "strata-real-node");
      try {
        Tools.run(ProjectFiles.root(), script(), "up", dir.toString());
        Properties env = new Properties();
        try (var reader = Files.newBufferedReader(dir.resolve("env"))) {
          env.load(reader);
        }
        Map<String, String> values = new HashMap<>();
        env.forEach((k, v) -> values.put((String) k, (String) v));
        Node node = new Node(dir, Map.copyOf(values));
        Runtime.getRuntime().addShutdownHook(node.onInterrupt);
        return node;
      } catch (IOException e) {
        throw new UncheckedIOException("hack/node.sh up failed", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    private static String script() {
      return ProjectFiles.root().resolve("hack/node.sh").toString();
    }

    @Override
    public void close() {
      try {
        Runtime.getRuntime().removeShutdownHook(onInterrupt);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs anyway
      }
      down();
    }

    /**
     * Runs {@code hack/node.sh down} in a session of its own, so that it finishes even when this
     * JVM is halted before it does (as a test fork is when Maven goes away), and waits for it.
     */
    private void down() {
      try {
        Process down =
            new ProcessBuilder("setsid", script(), "down", dir.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("logs/down.log").toFile())
                .start();
        if (!down.waitFor(2, TimeUnit.MINUTES) || down.exitValue() != 0) {
          throw new IllegalStateException(
              "hack/node.sh down failed; see " + dir.resolve("logs/down.log"));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /** The node's name (this machine's host name). */
    @Override
    public String nodeName() {
      return env.get("NODE_NAME");
    }

    @Override
    public int apiServerPort() {
      return Integer.parseInt(env.get("API_SERVER_PORT"));
    }

    @Override
    public Path kubeletDir() {
      return dir.resolve("kubelet");
    }

    /** The shared mount Strata's agent mounts beneath ({@code agent.mountBase}). */
    @Override
    public Path mountBase() {
      return Path.of(env.get("MOUNT_BASE"));
    }

    /** A cluster-admin kubeconfig. */
    @Override
    public Path kubeconfig() {
      return dir.resolve("kubeconfig");
    }

    @Override
    public KubernetesClient client() {
      try {
        return new KubernetesClientBuilder()
            .withConfig(Config.fromKubeconfig(Files.readString(kubeconfig())))
            .build();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public void importImages(Path... tars) throws IOException, InterruptedException {
      List<String> command = new ArrayList<>(List.of(script(), "import", dir.toString()));
      for (Path tar : tars) {
        command.add(tar.toString());
      }
      Tools.run(ProjectFiles.root(), command.toArray(String[]::new));
    }

    @Override
    public String onHost(String... command) throws IOException, InterruptedException {
      return Tools.run(ProjectFiles.root(), command);
    }

    /** The node's logs directory (one file per daemon), for failure messages. */
    public Path logs() {
      return dir.resolve("logs");
    }
  }
}
