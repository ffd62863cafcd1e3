package io.strata.agent;

import io.strata.layerstore.CacheCollector;
import io.strata.registry.RegistrySettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/** Everything the agent is told at start: one node, its state dir and mount base, its namespace. */
public record AgentConfig(
    String nodeName,
    Path stateDir,
    Path mountBase,
    String namespace,
    int httpPort,
    Duration leaseDuration,
    Duration resyncPeriod,
    int concurrentFetches,
    Duration fetchTimeout,
    CacheCollector.Budget cacheBudget,
    RegistrySettings registries) {

  public AgentConfig {
    Objects.requireNonNull(nodeName, "nodeName");
    if (nodeName.isBlank()) {
      throw new IllegalArgumentException("the node name is empty");
    }
    stateDir = stateDir.toAbsolutePath().normalize();
    mountBase = mountBase.toAbsolutePath().normalize();
    Objects.requireNonNull(registries, "registries");
  }

  /** No byte limit; keep 1 GiB and 10,000 inodes free on the cache's filesystem. */
  public static final CacheCollector.Budget DEFAULT_BUDGET =
      new CacheCollector.Budget(0, 1L << 30, 10_000);

  /** The defaults of everything but the node and its paths. */
  public static AgentConfig of(
      String nodeName, Path stateDir, Path mountBase, String namespace, int httpPort) {
    return new AgentConfig(
        nodeName,
        stateDir,
        mountBase,
        namespace,
        httpPort,
        Duration.ofSeconds(40),
        Duration.ofMinutes(5),
        3,
        Duration.ofMinutes(2),
        DEFAULT_BUDGET,
        RegistrySettings.DEFAULT);
  }

  /** The same with {@code registries} instead. */
  public AgentConfig withRegistries(RegistrySettings registries) {
    return new AgentConfig(
        nodeName,
        stateDir,
        mountBase,
        namespace,
        httpPort,
        leaseDuration,
        resyncPeriod,
        concurrentFetches,
        fetchTimeout,
        cacheBudget,
        registries);
  }

  public String leaseName() {
    return io.strata.crd.StrataApi.AGENT_LEASE_PREFIX + nodeName;
  }

  /** The Lease is renewed this often: a third of its duration, as kubelet does. */
  public Duration leaseRenewPeriod() {
    return leaseDuration.dividedBy(3);
  }
}
