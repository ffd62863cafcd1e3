package io.strata.agent;

import io.strata.crd.StrataApi;
import io.strata.csi.VolumeAttributes;
import io.strata.fetch.BlobFetcher;
import io.strata.layerstore.CacheCollector;
import io.strata.registry.RegistrySettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
    Duration fetchStallTimeout,
    List<Path> fileUrlDirs,
    CacheCollector.Budget cacheBudget,
    RegistrySettings registries,
    CsiSettings csi) {

  /**
   * The CSI node plugin ({@code csi.strata.io}): where kubelet's directory is, the size of a Disk
   * volume that names none, and the largest {@code sizeLimit} a pod volume may ask for.
   */
  public record CsiSettings(Path kubeletDir, VolumeAttributes.Sizes sizes) {
    public static final VolumeAttributes.Sizes DEFAULT_SIZES =
        new VolumeAttributes.Sizes(1L << 30, 8L << 30);

    public CsiSettings {
      kubeletDir = kubeletDir.toAbsolutePath().normalize();
      Objects.requireNonNull(sizes, "sizes");
    }
  }

  public AgentConfig {
    Objects.requireNonNull(nodeName, "nodeName");
    if (nodeName.isBlank()) {
      throw new IllegalArgumentException("the node name is empty");
    }
    stateDir = stateDir.toAbsolutePath().normalize();
    mountBase = mountBase.toAbsolutePath().normalize();
    Objects.requireNonNull(registries, "registries");
    fileUrlDirs = fileUrlDirs.stream().map(p -> p.toAbsolutePath().normalize()).toList();
  }

  /** No byte limit; keep 1 GiB and 10,000 inodes free on the cache's filesystem. */
  public static final CacheCollector.Budget DEFAULT_BUDGET =
      new CacheCollector.Budget(0, 1L << 30, 10_000);

  /**
   * A configuration for {@code nodeName} with its paths, the rest at the command line's defaults
   * (the default namespace, a 40 s Lease, a full pass every 5 minutes, 3 fetches at once, each
   * given 2 minutes for its headers and 60 s without a byte, no file URLs, {@link #DEFAULT_BUDGET},
   * registries as they are) except the health server's port: any free one, where the command line
   * takes 8080.
   */
  public static Builder builder(String nodeName, Path stateDir, Path mountBase) {
    return new Builder(nodeName, stateDir, mountBase);
  }

  /** A builder holding this configuration, to change part of it. */
  public Builder toBuilder() {
    return builder(nodeName, stateDir, mountBase)
        .namespace(namespace)
        .httpPort(httpPort)
        .leaseDuration(leaseDuration)
        .resyncPeriod(resyncPeriod)
        .concurrentFetches(concurrentFetches)
        .fetchTimeout(fetchTimeout)
        .fetchStallTimeout(fetchStallTimeout)
        .fileUrlDirs(fileUrlDirs)
        .cacheBudget(cacheBudget)
        .registries(registries)
        .csi(csi);
  }

  /** Sets by name what differs from the defaults; {@link #build()} validates as the record does. */
  public static final class Builder {
    private final String nodeName;
    private final Path stateDir;
    private final Path mountBase;
    private String namespace = StrataApi.DEFAULT_NAMESPACE;
    private int httpPort = 0;
    private Duration leaseDuration = Duration.ofSeconds(40);
    private Duration resyncPeriod = Duration.ofMinutes(5);
    private int concurrentFetches = 3;
    private Duration fetchTimeout = Duration.ofMinutes(2);
    private Duration fetchStallTimeout = BlobFetcher.DEFAULT_STALL_TIMEOUT;
    private List<Path> fileUrlDirs = List.of();
    private CacheCollector.Budget cacheBudget = DEFAULT_BUDGET;
    private RegistrySettings registries = RegistrySettings.DEFAULT;
    private CsiSettings csi;

    private Builder(String nodeName, Path stateDir, Path mountBase) {
      this.nodeName = nodeName;
      this.stateDir = stateDir;
      this.mountBase = mountBase;
    }

    public Builder namespace(String namespace) {
      this.namespace = namespace;
      return this;
    }

    /** The health and metrics port; 0 takes any free one. */
    public Builder httpPort(int httpPort) {
      this.httpPort = httpPort;
      return this;
    }

    public Builder leaseDuration(Duration leaseDuration) {
      this.leaseDuration = leaseDuration;
      return this;
    }

    public Builder resyncPeriod(Duration resyncPeriod) {
      this.resyncPeriod = resyncPeriod;
      return this;
    }

    public Builder concurrentFetches(int concurrentFetches) {
      this.concurrentFetches = concurrentFetches;
      return this;
    }

    public Builder fetchTimeout(Duration fetchTimeout) {
      this.fetchTimeout = fetchTimeout;
      return this;
    }

    /** How long a download's body may send nothing before it is given up on. */
    public Builder fetchStallTimeout(Duration fetchStallTimeout) {
      this.fetchStallTimeout = fetchStallTimeout;
      return this;
    }

    /** Directories whose files {@code file} URLs may name; none (the default): no file URLs. */
    public Builder fileUrlDirs(List<Path> fileUrlDirs) {
      this.fileUrlDirs = List.copyOf(fileUrlDirs);
      return this;
    }

    public Builder cacheBudget(CacheCollector.Budget cacheBudget) {
      this.cacheBudget = cacheBudget;
      return this;
    }

    public Builder registries(RegistrySettings registries) {
      this.registries = registries;
      return this;
    }

    /** Serves the CSI node plugin with these settings; null (the default) serves none. */
    public Builder csi(CsiSettings csi) {
      this.csi = csi;
      return this;
    }

    public AgentConfig build() {
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
          fetchStallTimeout,
          fileUrlDirs,
          cacheBudget,
          registries,
          csi);
    }
  }

  public String leaseName() {
    return StrataApi.AGENT_LEASE_PREFIX + nodeName;
  }

  /** The Lease is renewed this often: a third of its duration, as kubelet does. */
  public Duration leaseRenewPeriod() {
    return leaseDuration.dividedBy(3);
  }
}
