package io.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.strata.controller.Controller;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import io.strata.crd.OverlayMount;
import io.strata.crd.StrataApi;
import io.strata.testing.Eventually;
import io.strata.testing.NodeStates;
import io.strata.testing.SimulatedNodes;
import io.strata.testing.TestResources;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two agents for two Nodes with different labels and the controller, against a real API server:
 * each node reports exactly what selects it, relabelling moves work, the controller counts nodes.
 */
class AgentAndControllerIT {
  private static final Duration CONVERGE = Duration.ofSeconds(30);
  private static final String GPU = "it-agent-gpu";
  private static final String CPU = "it-agent-cpu";
  private static final Map<String, String> SUITE = Map.of("strata-test", "agent-controller");

  @RegisterExtension final SimulatedNodes running = SimulatedNodes.suite(SUITE);
  private Agent gpuAgent;
  private KubernetesClient client;
  private Controller controller;

  @BeforeEach
  void startNodesAgentsAndController() throws Exception {
    client = running.client();
    running.node(GPU, Map.of("pool", "gpu"));
    running.node(CPU, Map.of("pool", "cpu"));
    gpuAgent = startAgent(GPU);
    startAgent(CPU);
    controller = running.controller("it-controller");

    client.resource(layerSet("it-all", Map.of())).create();
    client.resource(layerSet("it-gpu", Map.of("pool", "gpu"))).create();
    client.resource(mount("it-om-gpu-nodes", "it-all", Map.of("pool", "gpu"))).create();
    client.resource(mount("it-om-on-gpu-set", "it-gpu", null)).create();
  }

  @Test
  void eachNodeListsWhatSelectsItAndRelabellingMovesWork() {
    Eventually.within(
        CONVERGE,
        () -> {
          assertReports(
              GPU, List.of("it-all", "it-gpu"), List.of("it-om-gpu-nodes", "it-om-on-gpu-set"));
          assertReports(CPU, List.of("it-all"), List.of());
        });

    TestResources.edit(client.nodes().withName(CPU), n -> relabel(n, "gpu"));
    Eventually.within(
        CONVERGE,
        () ->
            assertReports(
                CPU, List.of("it-all", "it-gpu"), List.of("it-om-gpu-nodes", "it-om-on-gpu-set")));

    TestResources.edit(client.nodes().withName(CPU), n -> relabel(n, "cpu"));
    Eventually.within(CONVERGE, () -> assertReports(CPU, List.of("it-all"), List.of()));

    // A LayerSet goes from a node once it is deleted and no OverlayMount there uses it any more.
    client.resources(LayerSet.class).withName("it-gpu").delete();
    client.resources(OverlayMount.class).withName("it-om-on-gpu-set").delete();
    Eventually.within(
        CONVERGE, () -> assertReports(GPU, List.of("it-all"), List.of("it-om-gpu-nodes")));
  }

  @Test
  void nodeLayerStateIsOwnedByItsNodeAndReportsEachEntry() {
    Node gpu = client.nodes().withName(GPU).get();
    Eventually.within(
        CONVERGE,
        () -> {
          NodeLayerState state = client.resources(NodeLayerState.class).withName(GPU).get();
          assertThat(state.getMetadata().getOwnerReferences())
              .singleElement()
              .satisfies(
                  o -> {
                    assertThat(o.getKind()).isEqualTo("Node");
                    assertThat(o.getName()).isEqualTo(GPU);
                    assertThat(o.getUid()).isEqualTo(gpu.getMetadata().getUid());
                  });
          assertThat(state.getStatus().layerSets)
              .allSatisfy(
                  e -> {
                    // the layers of this test do not exist: each LayerSet fails on its own
                    assertThat(e.phase).isEqualTo(NodeLayerState.LayerSetPhase.Failed);
                    assertThat(e.reason).isEqualTo("IOError");
                    assertThat(e.message).contains("file:///nonexistent/strata-it/" + e.name);
                    assertThat(e.observedGeneration).isEqualTo(1L);
                    assertThat(e.lastTransitionTime).isNotBlank();
                  });
          assertThat(state.getStatus().overlayMounts)
              .allSatisfy(
                  e -> {
                    assertThat(e.phase).isEqualTo(NodeLayerState.MountPhase.Pending);
                    assertThat(e.message).startsWith("waiting for LayerSet");
                  });
          assertThat(state.getStatus().summary.ready).isEqualTo("0/4");
        });
    String uid = stored("it-all").getMetadata().getUid();
    Eventually.within(
        CONVERGE, () -> assertThat(controllerEvents(uid)).contains("Warning/NodesFailed"));
  }

  @Test
  void agentsRenewTheirLeases() {
    Eventually.within(
        CONVERGE,
        () -> {
          Lease lease =
              client
                  .leases()
                  .inNamespace(StrataApi.DEFAULT_NAMESPACE)
                  .withName("strata-agent-" + GPU)
                  .get();
          assertThat(lease.getSpec().getHolderIdentity()).isEqualTo(GPU);
          assertThat(lease.getSpec().getRenewTime()).isAfter(ZonedDateTime.now().minusSeconds(30));
        });
  }

  @Test
  void deletionWaitsForTheNodesAndTheLastUserOfALayerSet() {
    String layerSetUid = stored("it-gpu").getMetadata().getUid();
    String mountUid =
        client
            .resources(OverlayMount.class)
            .withName("it-om-on-gpu-set")
            .get()
            .getMetadata()
            .getUid();
    Eventually.within(
        CONVERGE,
        () ->
            assertThat(stored("it-gpu").getMetadata().getFinalizers())
                .containsExactly("strata.io/teardown"));
    client.resources(LayerSet.class).withName("it-gpu").delete();
    // it-om-on-gpu-set still uses it: the LayerSet stays, being deleted
    Eventually.within(
        CONVERGE,
        () -> assertThat(stored("it-gpu").getMetadata().getDeletionTimestamp()).isNotNull());
    assertThat(stored("it-gpu")).isNotNull();

    client.resources(OverlayMount.class).withName("it-om-on-gpu-set").delete();
    Eventually.within(
        CONVERGE,
        () -> {
          assertThat(client.resources(OverlayMount.class).withName("it-om-on-gpu-set").get())
              .isNull();
          assertThat(stored("it-gpu")).isNull();
          assertReports(GPU, List.of("it-all"), List.of("it-om-gpu-nodes"));
        });
    // What happened, and why, as Events (in default: the objects are cluster-scoped).
    Eventually.within(
        CONVERGE,
        () -> {
          assertThat(controllerEvents(layerSetUid)).contains("Warning/InUse", "Normal/TornDown");
          assertThat(controllerEvents(mountUid)).contains("Normal/TornDown");
        });
  }

  /** type/reason of the controller's Events about the object with {@code uid}. */
  private List<String> controllerEvents(String uid) {
    return client.v1().events().inNamespace("default").list().getItems().stream()
        .filter(e -> uid.equals(e.getInvolvedObject().getUid()))
        .filter(e -> "strata-controller".equals(e.getReportingComponent()))
        .map(e -> e.getType() + "/" + e.getReason())
        .toList();
  }

  @Test
  void aLiveNodeStillListingBlocksDeletionAndADeadOneDoesNot() {
    running.nodeWithoutAgent("it-sim-live", Map.of("pool", "sim"));
    running.nodeWithoutAgent("it-sim-dead", Map.of("pool", "sim"));
    simulatedNode("it-sim-live", ZonedDateTime.now(), "it-all");
    simulatedNode("it-sim-dead", ZonedDateTime.now().minusHours(1), "it-all");
    Eventually.within(
        CONVERGE, () -> assertThat(stored("it-all").getMetadata().getFinalizers()).isNotEmpty());
    client.resources(OverlayMount.class).withName("it-om-gpu-nodes").delete();
    client.resources(LayerSet.class).withName("it-all").delete();
    Eventually.within(
        CONVERGE,
        () ->
            assertThat(client.resources(OverlayMount.class).withName("it-om-gpu-nodes").get())
                .isNull());
    // the real agents drop it; the simulated live node has not: the LayerSet must wait
    Eventually.within(
        CONVERGE, () -> assertReports(GPU, List.of("it-gpu"), List.of("it-om-on-gpu-set")));
    assertThat(stored("it-all")).as("waits for it-sim-live").isNotNull();

    simulatedNode("it-sim-live", ZonedDateTime.now()); // that node tore it down
    Eventually.within(CONVERGE, () -> assertThat(stored("it-all")).isNull());
  }

  @Test
  void orphanDeletesAtOnce() {
    LayerSet orphan = layerSet("it-orphan", Map.of());
    orphan.getSpec().deletionPolicy = io.strata.crd.DeletionPolicy.Orphan;
    client.resource(orphan).create();
    running.nodeWithoutAgent("it-sim-busy", Map.of("pool", "sim"));
    simulatedNode("it-sim-busy", ZonedDateTime.now(), "it-orphan");
    Eventually.within(
        CONVERGE, () -> assertThat(stored("it-orphan").getMetadata().getFinalizers()).isNotEmpty());
    client.resources(LayerSet.class).withName("it-orphan").delete();
    Eventually.within(CONVERGE, () -> assertThat(stored("it-orphan")).isNull());
  }

  /** What an agent on {@code node} would write: its Lease and a NodeLayerState listing sets. */
  private void simulatedNode(String node, ZonedDateTime renewed, String... layerSets) {
    client
        .leases()
        .inNamespace(StrataApi.DEFAULT_NAMESPACE)
        .resource(
            new io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder()
                .withNewMetadata()
                .withName("strata-agent-" + node)
                .withNamespace(StrataApi.DEFAULT_NAMESPACE)
                .endMetadata()
                .withNewSpec()
                .withHolderIdentity(node)
                .withLeaseDurationSeconds(40)
                .withRenewTime(renewed)
                .endSpec()
                .build())
        .fieldManager("test")
        .forceConflicts()
        .serverSideApply();
    NodeLayerState state = new NodeLayerState();
    state.getMetadata().setName(node);
    client.resource(state).fieldManager("test").forceConflicts().serverSideApply();
    NodeLayerState.Status status = new NodeLayerState.Status();
    for (String name : layerSets) {
      NodeLayerState.LayerSetEntry entry = new NodeLayerState.LayerSetEntry();
      entry.name = name;
      entry.phase = NodeLayerState.LayerSetPhase.Ready;
      entry.observedGeneration = 1L;
      status.layerSets.add(entry);
    }
    state.setStatus(status);
    io.strata.kube.Apply.status(client, "test", state);
  }

  @Test
  void aStandbyControllerTakesOverWhenTheLeaderStops() throws Exception {
    running.controller("it-standby");
    Eventually.within(CONVERGE, () -> assertThat(leader()).isEqualTo("it-controller"));

    running.stop(controller); // the leader steps down
    Eventually.within(Duration.ofSeconds(60), () -> assertThat(leader()).isEqualTo("it-standby"));
    client.resource(layerSet("it-after-takeover", Map.of())).create();
    Eventually.within(
        CONVERGE, () -> assertThat(stored("it-after-takeover").getStatus()).isNotNull());
  }

  @Test
  void uninstallLeavesNothingStuckOnTheFinalizer() throws Exception {
    // The controller adds the finalizer to each of the four, one after another.
    Eventually.within(
        CONVERGE,
        () ->
            assertThat(
                    Stream.concat(
                            client
                                .resources(LayerSet.class)
                                .withLabels(SUITE)
                                .list()
                                .getItems()
                                .stream(),
                            client
                                .resources(OverlayMount.class)
                                .withLabels(SUITE)
                                .list()
                                .getItems()
                                .stream())
                        .filter(
                            o ->
                                o.getMetadata()
                                    .getFinalizers()
                                    .contains(StrataApi.TEARDOWN_FINALIZER)))
                .hasSize(4));
    running.stopAll(); // every agent and controller gone
    assertThat(io.strata.controller.Uninstall.removeFinalizers(client)).isGreaterThanOrEqualTo(4);
    TestResources.deleteSuite(client, SUITE);
    Eventually.within(
        CONVERGE,
        () ->
            assertThat(client.resources(LayerSet.class).withLabels(SUITE).list().getItems())
                .isEmpty());
  }

  private String leader() {
    return client
        .leases()
        .inNamespace(StrataApi.DEFAULT_NAMESPACE)
        .withName(StrataApi.CONTROLLER_LEASE)
        .get()
        .getSpec()
        .getHolderIdentity();
  }

  @Test
  void controllerLeadsAndCountsDesiredNodes() {
    Eventually.within(
        CONVERGE,
        () -> {
          assertThat(desired(LayerSet.class, "it-all")).isEqualTo(2);
          assertThat(desired(LayerSet.class, "it-gpu")).isEqualTo(1);
          assertThat(desired(OverlayMount.class, "it-om-gpu-nodes")).isEqualTo(1);
          assertThat(desired(OverlayMount.class, "it-om-on-gpu-set")).isEqualTo(1);
        });
    Lease leader =
        client
            .leases()
            .inNamespace(StrataApi.DEFAULT_NAMESPACE)
            .withName(StrataApi.CONTROLLER_LEASE)
            .get();
    assertThat(leader.getSpec().getHolderIdentity()).isEqualTo("it-controller");

    TestResources.edit(client.nodes().withName(CPU), n -> relabel(n, "gpu"));
    Eventually.within(
        CONVERGE,
        () -> {
          assertThat(desired(LayerSet.class, "it-gpu")).isEqualTo(2);
          assertThat(desired(OverlayMount.class, "it-om-gpu-nodes")).isEqualTo(2);
        });
    // JOSDK's own reconciler metrics, as /metrics serves them.
    assertThat(controller.scrapeMetrics())
        .contains("operator_sdk_reconciliations_executions")
        .contains("strata-layerset");
    // The agent's: JOSDK's for its reconciler beside its own.
    assertThat(gpuAgent.scrapeMetrics())
        .contains("operator_sdk_reconciliations_executions")
        .contains("strata-agent")
        .contains("strata_materialize_seconds");
  }

  /**
   * Something else writes the LayerSet without pause (a tool re-applying it, a hand editing it), so
   * every write changes the resourceVersion a read-modify-write would have to match: a 409 storm
   * for any writer that sends one. Strata's status writes are server-side applies that send none,
   * so the status still follows the nodes; the finalizer's removal, JOSDK's, is a patch that can be
   * refused and is tried again, so a deletion still completes.
   */
  @Test
  void statusAndDeletionGoOnWhileSomethingElseWritesTheLayerSetWithoutPause() throws Exception {
    Eventually.within(CONVERGE, () -> assertThat(desired(LayerSet.class, "it-gpu")).isEqualTo(1));
    AtomicBoolean storming = new AtomicBoolean(true);
    AtomicInteger writes = new AtomicInteger();
    AtomicInteger conflicts = new AtomicInteger();
    Thread storm =
        Thread.ofPlatform()
            .start(
                () -> {
                  while (storming.get()) {
                    try {
                      client
                          .resources(LayerSet.class)
                          .withName("it-gpu")
                          .edit(
                              l -> {
                                l.getMetadata()
                                    .getAnnotations()
                                    .put("storm", String.valueOf(writes.incrementAndGet()));
                                return l;
                              });
                    } catch (KubernetesClientException e) {
                      if (e.getCode() == 404) {
                        return; // deleted
                      }
                      if (e.getCode() != 409) {
                        throw e;
                      }
                      conflicts.incrementAndGet(); // the storm's own: it lost a race
                    }
                  }
                });
    try {
      Eventually.within(
          CONVERGE, () -> assertThat(writes).as("the storm is on").hasValueGreaterThan(20));
      TestResources.edit(client.nodes().withName(CPU), n -> relabel(n, "gpu"));
      Eventually.within(CONVERGE, () -> assertThat(desired(LayerSet.class, "it-gpu")).isEqualTo(2));
      Eventually.within(
          CONVERGE,
          () ->
              assertThat(NodeStates.layerSet(client, CPU, "it-gpu").map(e -> e.phase))
                  .as("the relabelled node's agent took the LayerSet on")
                  .contains(LayerSetPhase.Failed)); // its layer is at no URL

      client.resources(OverlayMount.class).withName("it-om-on-gpu-set").delete(); // its last user
      client.resources(LayerSet.class).withName("it-gpu").delete();
      Eventually.within(CONVERGE, () -> assertThat(stored("it-gpu")).as("it-gpu").isNull());
    } finally {
      storming.set(false);
      storm.join();
    }
    System.out.printf(
        "AgentAndControllerIT: the storm wrote %d times, %d of them refused with 409%n",
        writes.get(), conflicts.get());
  }

  private Integer desired(
      Class<? extends io.fabric8.kubernetes.client.CustomResource<?, ?>> kind, String name) {
    var object = client.resources(kind).withName(name).get();
    var status = (io.strata.crd.NodeSummaryStatus) object.getStatus();
    return status == null ? null : status.desiredNodes;
  }

  private void assertReports(String node, List<String> layerSets, List<String> mounts) {
    NodeLayerState state = client.resources(NodeLayerState.class).withName(node).get();
    assertThat(state).as("NodeLayerState %s", node).isNotNull();
    assertThat(state.getStatus().layerSets)
        .extracting(e -> e.name)
        .containsExactlyElementsOf(layerSets);
    assertThat(state.getStatus().overlayMounts)
        .extracting(e -> e.name)
        .containsExactlyElementsOf(mounts);
  }

  private Agent startAgent(String node) throws Exception {
    return running.agent(
        node,
        config ->
            config
                .leaseDuration(Duration.ofSeconds(15))
                .resyncPeriod(Duration.ofSeconds(30))
                .concurrentFetches(2)
                .fetchTimeout(Duration.ofSeconds(30))
                .fileUrlDirs(List.of(Path.of("/nonexistent/strata-it"))));
  }

  private static Node relabel(Node node, String pool) {
    node.getMetadata().getLabels().put("pool", pool);
    return node;
  }

  /** LayerSet {@code name} as the API server has it now; null once it is gone. */
  private LayerSet stored(String name) {
    return client.resources(LayerSet.class).withName(name).get();
  }

  private static LayerSet layerSet(String name, Map<String, String> pool) {
    LayerSet layerSet = new LayerSet();
    layerSet.getMetadata().setName(name);
    layerSet.getMetadata().setLabels(SUITE);
    layerSet.setSpec(new LayerSet.Spec());
    layerSet.getSpec().nodeSelector =
        new LabelSelectorBuilder().withMatchLabels(SUITE).addToMatchLabels(pool).build();
    layerSet.getSpec().layers =
        List.of(
            new LayerSet.Layer(
                "file:///nonexistent/strata-it/" + name + ".tar", "sha256:" + "c".repeat(64)));
    return layerSet;
  }

  private static OverlayMount mount(String name, String layerSet, Map<String, String> selector) {
    OverlayMount mount = TestResources.overlayMount(name, SUITE, layerSet);
    if (selector != null) {
      mount.getSpec().nodeSelector = new LabelSelectorBuilder().withMatchLabels(selector).build();
    }
    return mount;
  }
}
