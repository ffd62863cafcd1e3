package io.strata.bench;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import io.strata.crd.NodeLayerState.MountPhase;
import io.strata.crd.OverlayMount;
import io.strata.testing.ControlPlane;
import io.strata.testing.ProjectFiles;
import io.strata.testing.RootMounts;
import io.strata.testing.TestNodes;
import io.strata.testing.TestResources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Mount latency as a user sees it: from the API server accepting an OverlayMount whose layers are
 * already cached (the create call returning) to a watch seeing the node's NodeLayerState report it
 * Mounted; 100 one after another (median, p99), then 200 at once (time until all are Mounted,
 * NodeLayerState writes per mount). The agent runs as its own process, so its peak RSS is its own.
 * A benchmark, not a test: {@code hack/bench-agent.sh} as root.
 */
public final class AgentLatencyBenchmark {
  private static final String NODE = "bench-agent-node";

  private AgentLatencyBenchmark() {}

  public static void main(String[] args) throws Exception {
    int sequential = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    int batch = args.length > 1 ? Integer.parseInt(args[1]) : 200;
    Path tmp = Files.createTempDirectory("strata-bench-agent-");
    RootMounts node = RootMounts.prepare(tmp);
    ControlPlane plane = ControlPlane.shared();
    Path kubeconfig = plane.writeKubeconfig(tmp.resolve("kubeconfig"));
    Process agent = null;
    try (KubernetesClient client = plane.adminClient()) {
      client
          .nodes()
          .resource(new NodeBuilder().withNewMetadata().withName(NODE).endMetadata().build())
          .serverSideApply();
      LayerSet example =
          Serialization.unmarshal(
              Files.readString(ProjectFiles.examples().resolve("layerset.yaml")), LayerSet.class);
      example.getMetadata().setName("bench");
      for (LayerSet.Layer layer : example.getSpec().layers) {
        layer.url =
            ProjectFiles.examples()
                .resolve("layers")
                .resolve(layer.url.substring(layer.url.lastIndexOf('/') + 1))
                .toUri()
                .toString();
      }
      client.resource(example).serverSideApply();

      ProcessBuilder run =
          TestNodes.agentProcess(
                  NODE, node.stateDir, node.mountBase, kubeconfig, List.of("-XX:+UseSerialGC"))
              .redirectOutput(tmp.resolve("agent.log").toFile());
      String javaOptions = Measures.asTheChartRuns(run, "agent");
      agent = run.start();

      Map<String, Long> mountedAt = new ConcurrentHashMap<>();
      boolean[] layersReady = {false};
      var watch =
          client
              .resources(NodeLayerState.class)
              .withName(NODE)
              .watch(
                  new Watcher<>() {
                    @Override
                    public void eventReceived(Action action, NodeLayerState state) {
                      long now = System.nanoTime();
                      if (state.getStatus() == null) {
                        return;
                      }
                      state.getStatus().layerSets.stream()
                          .filter(e -> e.name.equals("bench") && e.phase == LayerSetPhase.Ready)
                          .findAny()
                          .ifPresent(e -> layersReady[0] = true);
                      state.getStatus().overlayMounts.stream()
                          .filter(e -> e.phase == MountPhase.Mounted)
                          .forEach(e -> mountedAt.putIfAbsent(e.name, now));
                    }

                    @Override
                    public void onClose(WatcherException cause) {}
                  });
      long waitStart = System.nanoTime();
      while (!layersReady[0]) {
        if (System.nanoTime() - waitStart > 120_000_000_000L) {
          throw new IllegalStateException(
              "the example LayerSet is not Ready; see " + tmp.resolve("agent.log"));
        }
        Thread.sleep(50);
      }

      // Warm-up: the first mounts pay for class loading and JIT.
      for (int i = 0; i < 10; i++) {
        timeOne(client, "warm-" + i, mountedAt);
      }
      List<Long> latencies = new ArrayList<>();
      for (int i = 0; i < sequential; i++) {
        latencies.add(timeOne(client, "seq-" + i, mountedAt));
      }
      Collections.sort(latencies);
      System.out.printf(
          "%d OverlayMounts one after another: p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms%n",
          sequential,
          ms(latencies.get(latencies.size() / 2)),
          ms(latencies.get(latencies.size() * 9 / 10)),
          ms(latencies.get(Math.min(latencies.size() - 1, latencies.size() * 99 / 100))),
          ms(latencies.getLast()));

      // A node serves at most 256 OverlayMounts: clear the first ones before the batch.
      client.resources(OverlayMount.class).delete();
      long clearing = System.nanoTime();
      while (node.mountsBeneath().size() > 1) {
        if (System.nanoTime() - clearing > 120_000_000_000L) {
          throw new IllegalStateException("the first mounts were not unmounted");
        }
        Thread.sleep(100);
      }
      mountedAt.clear();
      long writesBefore = Measures.statusWrites(client, "nodelayerstates");
      ExecutorService pool = Executors.newFixedThreadPool(16);
      long start = System.nanoTime();
      List<Future<?>> creates = new ArrayList<>();
      for (int i = 0; i < batch; i++) {
        String name = "batch-" + i;
        creates.add(
            pool.submit(
                () ->
                    client.resource(TestResources.overlayMount(name, Map.of(), "bench")).create()));
      }
      for (Future<?> f : creates) {
        f.get();
      }
      long created = System.nanoTime();
      while (true) {
        long done = 0;
        for (int i = 0; i < batch; i++) {
          if (mountedAt.containsKey("batch-" + i)) {
            done++;
          }
        }
        if (done == batch) {
          break;
        }
        if (System.nanoTime() - start > 300_000_000_000L) {
          throw new IllegalStateException(done + " of " + batch + " mounted after 5 minutes");
        }
        Thread.sleep(20);
      }
      long last = 0;
      for (int i = 0; i < batch; i++) {
        last = Math.max(last, mountedAt.get("batch-" + i));
      }
      long writes = Measures.statusWrites(client, "nodelayerstates") - writesBefore;
      pool.shutdown();
      System.out.printf(
          "%d OverlayMounts at once: all created in %.2f s, all Mounted %.2f s after the first create; %d NodeLayerState writes (%.2f per mount)%n",
          batch, (created - start) / 1e9, (last - start) / 1e9, writes, writes / (double) batch);
      System.out.printf(
          "agent peak RSS: %d MiB (%s)%n", Measures.peakRssKiB(agent.pid()) / 1024, javaOptions);
      watch.close();

      client.resources(OverlayMount.class).delete();
      long deadline = System.nanoTime() + 300_000_000_000L;
      while (node.mountsBeneath().size() > 1 && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      client.resource(example).delete();
    } finally {
      if (agent != null) {
        agent.destroy();
        agent.waitFor();
      }
      node.cleanUp();
    }
    System.exit(0);
  }

  private static long timeOne(KubernetesClient client, String name, Map<String, Long> mountedAt)
      throws Exception {
    client.resource(TestResources.overlayMount(name, Map.of(), "bench")).create();
    long accepted = System.nanoTime();
    while (!mountedAt.containsKey(name)) {
      if (System.nanoTime() - accepted > 60_000_000_000L) {
        throw new IllegalStateException(name + " not Mounted after 60 s");
      }
      Thread.sleep(1);
    }
    return mountedAt.get(name) - accepted;
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }
}
