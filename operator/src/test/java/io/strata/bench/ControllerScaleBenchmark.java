package io.strata.bench;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import io.strata.kube.Apply;
import io.strata.testing.ControlPlane;
import io.strata.testing.ProjectFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The controller at scale: simulated nodes (Node objects and the NodeLayerStates their agents would
 * write) against the local control plane, and {@code strata controller} as its own process (so its
 * RSS is its own). Measures, from the last simulated write, the time until every LayerSet's status
 * is correct; the controller's peak RSS; its status writes per second at the peak (from the API
 * server's request counters); the largest LayerSet object. A benchmark, not a test: {@code
 * hack/bench-controller.sh NODES LAYERSETS}.
 */
public final class ControllerScaleBenchmark {
  private static final String FIELD_MANAGER = "strata-agent";

  private ControllerScaleBenchmark() {}

  public static void main(String[] args) throws Exception {
    int nodes = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int sets = args.length > 1 ? Integer.parseInt(args[1]) : 50;
    ControlPlane plane = ControlPlane.shared();
    Path dir = Files.createTempDirectory("strata-scale-");
    Path kubeconfig = plane.writeKubeconfig(dir.resolve("kubeconfig"));
    try (KubernetesClient client = plane.adminClient()) {
      ExecutorService writers = Executors.newFixedThreadPool(16);
      long t0 = System.nanoTime();
      parallel(
          writers,
          nodes,
          i ->
              client
                  .nodes()
                  .resource(
                      new NodeBuilder()
                          .withNewMetadata()
                          .withName(node(i))
                          .addToLabels("strata-bench", "scale")
                          .endMetadata()
                          .build())
                  .serverSideApply());
      parallel(
          writers,
          nodes,
          i -> {
            NodeLayerState object = new NodeLayerState();
            object.getMetadata().setName(node(i));
            Apply.object(client, FIELD_MANAGER, object); // as an agent creates its own at start
          });
      for (int s = 0; s < sets; s++) {
        LayerSet layerSet = new LayerSet();
        layerSet.getMetadata().setName("scale-" + s);
        LayerSet.Spec spec = new LayerSet.Spec();
        spec.layers =
            List.of(
                new LayerSet.Layer("http://127.0.0.1:1/" + s + ".tar", "sha256:" + "a".repeat(64)));
        layerSet.setSpec(spec);
        client.resource(layerSet).serverSideApply();
      }
      System.out.printf(
          "created %d Nodes and %d LayerSets in %.1f s%n",
          nodes, sets, (System.nanoTime() - t0) / 1e9);

      String java = ProcessHandle.current().info().command().orElse("java");
      ProcessBuilder run =
          new ProcessBuilder(
                  java,
                  "-XX:+UseSerialGC",
                  "-jar",
                  ProjectFiles.root().resolve("operator/target/strata.jar").toString(),
                  "controller",
                  "--http-port",
                  "0")
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("controller.log").toFile());
      run.environment().put("KUBECONFIG", kubeconfig.toString());
      String javaOptions = Measures.asTheChartRuns(run, "controller");
      Process controller = run.start();
      ProcessHandle handle = controller.toHandle();
      try {
        round(
            client,
            writers,
            nodes,
            sets,
            "sha256:" + "1".repeat(64),
            "all nodes report Ready",
            controller);
        round(
            client,
            writers,
            nodes,
            sets,
            "sha256:" + "2".repeat(64),
            "all nodes report a new chain",
            controller);
        long largest = 0;
        for (LayerSet l : client.resources(LayerSet.class).list().getItems()) {
          largest = Math.max(largest, Serialization.asJson(l).length());
        }
        System.out.printf("largest LayerSet object: %.1f KiB%n", largest / 1024.0);
        System.out.printf(
            "controller peak RSS: %d MiB (%s)%n",
            Measures.peakRssKiB(handle.pid()) / 1024, javaOptions);
      } finally {
        controller.destroy();
        controller.waitFor();
        writers.shutdownNow();
      }
    }
    System.exit(0);
  }

  /** Writes every node's NodeLayerState with {@code chain}, then waits for every summary. */
  private static void round(
      KubernetesClient client,
      ExecutorService writers,
      int nodes,
      int sets,
      String chain,
      String what,
      Process controller)
      throws Exception {
    long writesBefore = Measures.statusWrites(client, "layersets|overlaymounts");
    long[] peakPerSecond = {0};
    java.util.concurrent.ScheduledExecutorService sampler =
        Executors.newSingleThreadScheduledExecutor();
    long[] previous = {writesBefore};
    sampler.scheduleAtFixedRate(
        () -> {
          long now = Measures.statusWrites(client, "layersets|overlaymounts");
          peakPerSecond[0] = Math.max(peakPerSecond[0], now - previous[0]);
          previous[0] = now;
        },
        1,
        1,
        java.util.concurrent.TimeUnit.SECONDS);
    long start = System.nanoTime();
    parallel(writers, nodes, i -> Apply.status(client, FIELD_MANAGER, state(node(i), sets, chain)));
    long lastWrite = System.nanoTime();
    while (!converged(client, nodes, sets, chain)) {
      if (!controller.isAlive()) {
        throw new IllegalStateException("the controller exited; see its log");
      }
      Thread.sleep(100);
      if ((System.nanoTime() - lastWrite) / 1e9 > 600) {
        throw new IllegalStateException("not converged after 10 minutes");
      }
    }
    long done = System.nanoTime();
    sampler.shutdownNow();
    long writes = Measures.statusWrites(client, "layersets|overlaymounts") - writesBefore;
    System.out.printf(
        "%s (%d nodes, %d LayerSets): simulated writes took %.1f s; every status correct %.2f s after the last one; %d status writes, peak %d/s%n",
        what,
        nodes,
        sets,
        (lastWrite - start) / 1e9,
        (done - lastWrite) / 1e9,
        writes,
        peakPerSecond[0]);
  }

  private static boolean converged(KubernetesClient client, int nodes, int sets, String chain) {
    List<LayerSet> all = client.resources(LayerSet.class).list().getItems();
    if (all.size() != sets) {
      return false;
    }
    for (LayerSet l : all) {
      LayerSet.Status s = l.getStatus();
      if (s == null
          || s.readyNodes == null
          || s.readyNodes != nodes
          || s.desiredNodes == null
          || s.desiredNodes != nodes
          || !chain.equals(s.chainId)) {
        return false;
      }
    }
    return true;
  }

  private static NodeLayerState state(String node, int sets, String chain) {
    NodeLayerState state = new NodeLayerState();
    state.getMetadata().setName(node);
    NodeLayerState.Status status = new NodeLayerState.Status();
    for (int s = 0; s < sets; s++) {
      LayerSetEntry e = new LayerSetEntry();
      e.name = "scale-" + s;
      e.phase = LayerSetPhase.Ready;
      e.observedGeneration = 1L;
      e.chainId = chain;
      e.root = "/var/lib/strata/layers/" + chain.substring(7) + "/root";
      e.lastTransitionTime = Instant.now().toString().substring(0, 19) + "Z";
      status.layerSets.add(e);
    }
    state.setStatus(status);
    return state;
  }

  private static String node(int i) {
    return String.format("scale-node-%05d", i);
  }

  private interface Task {
    void run(int i) throws Exception;
  }

  private static void parallel(ExecutorService pool, int n, Task task) throws Exception {
    List<Future<?>> futures = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int index = i;
      futures.add(
          pool.submit(
              () -> {
                task.run(index);
                return null;
              }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
  }
}
