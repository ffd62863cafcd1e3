package io.strata.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.strata.agent.Agent;
import io.strata.agent.AgentConfig;
import io.strata.controller.Controller;
import io.strata.crd.LayerSet;
import io.strata.crd.OverlayMount;
import io.strata.crd.StrataApi;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Simulated nodes for a suite, with agents and controllers running in the test's JVM against the
 * shared control plane: each node a Node object (labelled with the suite's label) and a scratch
 * node of its own ({@link RootMounts}: a state dir and a shared mount base); each process with a
 * client of its own, as each process would have. Register it with {@code @RegisterExtension}.
 *
 * <p>After each test, in this order: the suite's OverlayMounts and LayerSets are deleted while the
 * processes still run (their finalizers need both) and are waited for; the processes stop in the
 * reverse order of their start; what the nodes left mounted is detached; the Nodes, their
 * NodeLayerStates and their agents' Leases are deleted; then what {@link #closeLast} was given is
 * closed. A suite whose objects do not go away fails: nothing leaks into the next suite.
 */
public final class SimulatedNodes implements AfterEachCallback {
  /** How long the suite's objects may take to go once deleted. */
  private static final Duration TEARDOWN = Duration.ofSeconds(60);

  private final Map<String, String> labels;
  private final List<AutoCloseable> running = new ArrayList<>();
  private final List<String> nodes = new ArrayList<>();
  private final Map<String, RootMounts> scratch = new LinkedHashMap<>();
  private final List<AutoCloseable> last = new ArrayList<>();
  private KubernetesClient client;
  private Path scratchRoot;

  private SimulatedNodes(Map<String, String> labels) {
    this.labels = labels;
  }

  /** Nodes and objects of the suite whose every object carries {@code labels}. */
  public static SimulatedNodes suite(Map<String, String> labels) {
    return new SimulatedNodes(Map.copyOf(labels));
  }

  /** The label every Node, LayerSet and OverlayMount of the suite carries. */
  public Map<String, String> labels() {
    return labels;
  }

  /** An admin client of the test's own. */
  public KubernetesClient client() {
    if (client == null) {
      client = ControlPlane.shared().adminClient();
    }
    return client;
  }

  /**
   * Node {@code name} with the suite's label and {@code extraLabels}, and its scratch node (real
   * mounts: needs root).
   */
  public RootMounts node(String name, Map<String, String> extraLabels) throws IOException {
    if (scratchRoot == null) {
      scratchRoot = Files.createTempDirectory("strata-nodes-");
    }
    RootMounts dirs = RootMounts.prepare(Files.createDirectories(scratchRoot.resolve(name)));
    scratch.put(name, dirs);
    nodeWithoutAgent(name, extraLabels);
    return dirs;
  }

  /**
   * Node {@code name} with the suite's label and {@code extraLabels}, and nothing else: for a test
   * that writes what an agent would. Its NodeLayerState and Lease go with it after the test.
   */
  public void nodeWithoutAgent(String name, Map<String, String> extraLabels) {
    Map<String, String> nodeLabels = new HashMap<>(labels);
    nodeLabels.putAll(extraLabels);
    TestNodes.create(client(), name, nodeLabels);
    nodes.add(name);
  }

  /** An agent for node {@code name} (made by {@link #node}) on its scratch node's directories. */
  public Agent agent(String name, UnaryOperator<AgentConfig.Builder> options) throws Exception {
    RootMounts dirs = scratch.get(name);
    if (dirs == null) {
      throw new IllegalArgumentException("no scratch node " + name + ": make it with node()");
    }
    return agent(options.apply(AgentConfig.builder(name, dirs.stateDir, dirs.mountBase)).build());
  }

  /** An agent for node {@code name} with the defaults. */
  public Agent agent(String name) throws Exception {
    return agent(name, UnaryOperator.identity());
  }

  /** An agent with {@code config}, as it is. */
  public Agent agent(AgentConfig config) throws Exception {
    KubernetesClient own = ControlPlane.shared().adminClient();
    running.add(own);
    Agent agent = new Agent(own, config, Clock.systemUTC());
    running.add(agent);
    agent.start();
    return agent;
  }

  /** A controller that competes for the leader Lease as {@code identity}. */
  public Controller controller(String identity) throws Exception {
    KubernetesClient own = ControlPlane.shared().adminClient();
    running.add(own);
    Controller controller =
        new Controller(
            own, StrataApi.DEFAULT_NAMESPACE, identity, 0, Duration.ofMinutes(5), () -> {});
    running.add(controller);
    controller.start();
    return controller;
  }

  /** Stops every agent and controller now, in the reverse order of their start. */
  public void stopAll() throws Exception {
    for (AutoCloseable process : running.reversed()) {
      process.close();
    }
    running.clear();
  }

  /** Stops {@code process} now (its client stays until the test ends). */
  public void stop(AutoCloseable process) throws Exception {
    running.remove(process);
    process.close();
  }

  /** Closes {@code resource} after everything else (a disk beneath a node's state dir). */
  public <T extends AutoCloseable> T closeLast(T resource) {
    last.add(resource);
    return resource;
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    List<Throwable> problems = new ArrayList<>();
    if (client != null) {
      attempt(problems, this::deleteSuiteObjects);
    }
    for (AutoCloseable process : running.reversed()) {
      attempt(problems, process::close);
    }
    running.clear();
    for (RootMounts dirs : List.copyOf(scratch.values()).reversed()) {
      attempt(problems, dirs::cleanUp);
    }
    scratch.clear();
    if (client != null) {
      for (String node : nodes) {
        attempt(
            problems,
            () -> {
              TestNodes.delete(client, node);
              client
                  .leases()
                  .inNamespace(StrataApi.DEFAULT_NAMESPACE)
                  .withName("strata-agent-" + node)
                  .delete();
            });
      }
      attempt(problems, () -> client.nodes().withLabels(labels).delete());
      client.close();
      client = null;
    }
    nodes.clear();
    for (AutoCloseable resource : last.reversed()) {
      attempt(problems, resource::close);
    }
    last.clear();
    if (scratchRoot != null) {
      attempt(problems, () -> Tools.run(Path.of("/"), "rm", "-rf", scratchRoot.toString()));
      scratchRoot = null;
    }
    if (!problems.isEmpty()) {
      AssertionError failed = new AssertionError("tearing the simulated nodes down failed");
      problems.forEach(failed::addSuppressed);
      throw failed;
    }
  }

  private void deleteSuiteObjects() {
    TestResources.deleteSuite(client, labels);
    Eventually.within(
        TEARDOWN,
        () -> {
          assertThat(client.resources(OverlayMount.class).withLabels(labels).list().getItems())
              .as("the suite's OverlayMounts, deleted")
              .isEmpty();
          assertThat(client.resources(LayerSet.class).withLabels(labels).list().getItems())
              .as("the suite's LayerSets, deleted")
              .isEmpty();
        });
  }

  @FunctionalInterface
  private interface Step {
    void run() throws Exception;
  }

  /** Runs one teardown step; a failure is kept and the teardown goes on. */
  private static void attempt(List<Throwable> problems, Step step) {
    try {
      step.run();
    } catch (Exception | AssertionError e) {
      problems.add(e);
    }
  }
}
