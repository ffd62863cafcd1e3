package io.strata.testing;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.strata.agent.Agent;
import io.strata.agent.AgentConfig;
import io.strata.controller.Controller;
import io.strata.crd.StrataApi;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Agents and controllers running in the test's JVM against the shared control plane, each with a
 * client of its own (as each process would have), stopped in the reverse order of their start.
 */
public final class InProcess implements AutoCloseable {
  private final List<AutoCloseable> running = new ArrayList<>();

  /** Starts an agent with {@code config}. */
  public Agent agent(AgentConfig config) throws Exception {
    KubernetesClient client = ControlPlane.shared().adminClient();
    running.add(client);
    Agent agent = new Agent(client, config, Clock.systemUTC());
    running.add(agent);
    agent.start();
    return agent;
  }

  /** Starts a controller that competes for the leader Lease as {@code identity}. */
  public Controller controller(String identity) throws Exception {
    KubernetesClient client = ControlPlane.shared().adminClient();
    running.add(client);
    Controller controller =
        new Controller(
            client, StrataApi.DEFAULT_NAMESPACE, identity, 0, Duration.ofMinutes(5), () -> {});
    running.add(controller);
    controller.start();
    return controller;
  }

  /** Stops {@code process} now (its client stays until {@link #close()}). */
  public void stop(AutoCloseable process) throws Exception {
    running.remove(process);
    process.close();
  }

  @Override
  public void close() throws Exception {
    for (AutoCloseable c : running.reversed()) {
      c.close();
    }
    running.clear();
  }
}
