package io.strata.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.strata.agent.Agent;
import io.strata.agent.AgentConfig;
import io.strata.crd.ByteQuantity;
import io.strata.csi.VolumeAttributes;
import io.strata.layerstore.CacheCollector;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "agent", description = "Run the node agent for one node (a DaemonSet pod).")
final class AgentCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin NodePaths paths;
  @Mixin ClusterOptions cluster;
  @Mixin RegistryOptions registries;

  @Option(
      names = "--node-name",
      paramLabel = "NAME",
      defaultValue = "${env:NODE_NAME}",
      description = "This node's Node name (env NODE_NAME, from the downward API).")
  String nodeName;

  @Option(
      names = "--lease-duration",
      paramLabel = "DURATION",
      defaultValue = "${env:STRATA_LEASE_DURATION:-PT40S}",
      description =
          "How long the agent's Lease lasts unrenewed (ISO-8601; default ${DEFAULT-VALUE}).")
  Duration leaseDuration;

  @Option(
      names = "--resync",
      paramLabel = "DURATION",
      defaultValue = "${env:STRATA_RESYNC:-PT5M}",
      description =
          "Full pass at least this often, events or not (ISO-8601; default ${DEFAULT-VALUE}).")
  Duration resync;

  @Option(
      names = "--concurrent-fetches",
      paramLabel = "N",
      defaultValue = "${env:STRATA_CONCURRENT_FETCHES:-3}",
      description = "Layer downloads at a time (default ${DEFAULT-VALUE}).")
  int concurrentFetches;

  @Option(
      names = "--fetch-timeout",
      paramLabel = "DURATION",
      defaultValue = "${env:STRATA_FETCH_TIMEOUT:-PT2M}",
      description =
          "Connect and per-request timeout of layer downloads (default ${DEFAULT-VALUE}).")
  Duration fetchTimeout;

  @Option(
      names = "--fetch-stall-timeout",
      paramLabel = "DURATION",
      defaultValue = "${env:STRATA_FETCH_STALL_TIMEOUT:-PT60S}",
      description =
          "Give up on a download whose server sends nothing for this long; it resumes on the next"
              + " attempt (default ${DEFAULT-VALUE}).")
  Duration fetchStallTimeout;

  @Option(
      names = "--allow-file-urls",
      paramLabel = "DIR",
      split = ",",
      defaultValue = "${env:STRATA_ALLOW_FILE_URLS}",
      description =
          "A directory whose files LayerSets may name with file URLs; repeatable. None by default:"
              + " no file URLs (env STRATA_ALLOW_FILE_URLS, comma-separated).")
  List<Path> fileUrlDirs = List.of();

  @Option(
      names = "--cache-max-bytes",
      paramLabel = "N",
      defaultValue = "${env:STRATA_CACHE_MAX_BYTES:-0}",
      description =
          "Evict unused roots past this many bytes; 0: no byte limit (default ${DEFAULT-VALUE}).")
  long cacheMaxBytes;

  @Option(
      names = "--cache-min-free-bytes",
      paramLabel = "N",
      defaultValue = "${env:STRATA_CACHE_MIN_FREE_BYTES:-1073741824}",
      description =
          "Evict unused roots while less is free on the cache's filesystem (default ${DEFAULT-VALUE}).")
  long cacheMinFreeBytes;

  @Option(
      names = "--cache-min-free-inodes",
      paramLabel = "N",
      defaultValue = "${env:STRATA_CACHE_MIN_FREE_INODES:-10000}",
      description = "Evict unused roots while fewer inodes are free (default ${DEFAULT-VALUE}).")
  long cacheMinFreeInodes;

  @Option(
      names = "--csi",
      paramLabel = "BOOL",
      arity = "1",
      defaultValue = "${env:STRATA_CSI:-true}",
      description =
          "Serve the CSI node plugin csi.strata.io for pod volumes (default ${DEFAULT-VALUE}).")
  boolean csi;

  @Option(
      names = "--kubelet-dir",
      paramLabel = "DIR",
      defaultValue = "${env:STRATA_KUBELET_DIR:-/var/lib/kubelet}",
      description =
          "kubelet's root directory, as kubelet sees it; the plugin's sockets and the volumes'"
              + " targets lie beneath it (default ${DEFAULT-VALUE}).")
  Path kubeletDir;

  @Option(
      names = "--csi-max-size",
      paramLabel = "SIZE",
      defaultValue = "${env:STRATA_CSI_MAX_SIZE:-8Gi}",
      description =
          "The largest sizeLimit a pod volume may ask for, as 512Mi or 2Gi (default"
              + " ${DEFAULT-VALUE}).")
  String csiMaxSize;

  @Option(
      names = "--csi-default-disk-size",
      paramLabel = "SIZE",
      defaultValue = "${env:STRATA_CSI_DEFAULT_DISK_SIZE:-1Gi}",
      description =
          "The size of a Disk pod volume that names no sizeLimit (default ${DEFAULT-VALUE}).")
  String csiDefaultDiskSize;

  @Override
  public Integer call() throws Exception {
    AgentConfig config = config();
    KubernetesClient client = new KubernetesClientBuilder().build();
    Agent agent = new Agent(client, config, Clock.systemUTC());
    Runtime.getRuntime().addShutdownHook(new Thread(() -> close(agent, client)));
    agent.start();
    Thread.currentThread().join(); // runs until the process is told to stop
    return 0;
  }

  /** What the options say, defaults and environment included. */
  AgentConfig config() {
    if (nodeName == null || nodeName.isBlank()) {
      throw new ParameterException(spec.commandLine(), "--node-name or NODE_NAME is required");
    }
    return AgentConfig.builder(nodeName, paths.stateDir, paths.mountBase)
        .namespace(cluster.namespace)
        .httpPort(cluster.httpPort)
        .leaseDuration(leaseDuration)
        .resyncPeriod(resync)
        .concurrentFetches(concurrentFetches)
        .fetchTimeout(fetchTimeout)
        .fetchStallTimeout(fetchStallTimeout)
        .fileUrlDirs(fileUrlDirs == null ? List.of() : fileUrlDirs)
        .cacheBudget(
            new CacheCollector.Budget(cacheMaxBytes, cacheMinFreeBytes, cacheMinFreeInodes))
        .registries(registries.settings())
        .csi(csi ? new AgentConfig.CsiSettings(kubeletDir, volumeSizes()) : null)
        .build();
  }

  private VolumeAttributes.Sizes volumeSizes() {
    try {
      return new VolumeAttributes.Sizes(
          ByteQuantity.parse("--csi-default-disk-size", csiDefaultDiskSize),
          ByteQuantity.parse("--csi-max-size", csiMaxSize));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  private static void close(Agent agent, KubernetesClient client) {
    try {
      agent.close();
    } catch (Exception e) {
      System.err.println("strata agent: while stopping: " + e.getMessage());
    }
    client.close();
  }
}
