package io.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.MountPhase;
import io.strata.crd.OverlayMount;
import io.strata.overlay.MountInfo;
import io.strata.overlay.MountTable;
import io.strata.testing.Consistently;
import io.strata.testing.ControlPlane;
import io.strata.testing.Eventually;
import io.strata.testing.NodeStates;
import io.strata.testing.ProjectFiles;
import io.strata.testing.RootMounts;
import io.strata.testing.TestNodes;
import io.strata.testing.TestResources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent keeps no state that matters: a restarted agent adopts what is mounted without mounting
 * again and does what was asked while it was down; an API server that stops answering changes
 * nothing on the node.
 */
class AgentRestartIT {
  private static final Duration CONVERGE = Duration.ofSeconds(60);
  private static final String NODE = "it-restart";
  private static final Map<String, String> SUITE = Map.of("strata-test", "agent-restart");

  @TempDir Path tmp;
  private RootMounts node;
  private KubernetesClient client;
  private KubernetesClient agentClient;
  private Agent agent;

  @BeforeEach
  void start() throws Exception {
    node = RootMounts.prepare(tmp);
    client = ControlPlane.shared().adminClient();
    TestNodes.create(client, NODE, SUITE);
    client
        .resource(
            TestResources.exampleLayerSet(
                "it-restart-set",
                SUITE,
                file -> ProjectFiles.examples().resolve("layers").resolve(file).toUri().toString()))
        .create();
    startAgent();
  }

  @AfterEach
  void stop() throws Exception {
    if (client != null) {
      TestResources.deleteSuite(client, SUITE);
    }
    stopAgent();
    if (node != null) {
      node.cleanUp();
    }
    if (client != null) {
      TestNodes.delete(client, NODE);
      client.close();
    }
  }

  @Test
  void aRestartedAgentAdoptsItsMountsAndDoesWhatWasAskedMeanwhile() throws Exception {
    client.resource(mount("it-first")).create();
    Path first = node.mountBase.resolve("it-first");
    Eventually.within(CONVERGE, () -> assertThat(phase("it-first")).isEqualTo(MountPhase.Mounted));
    int mountId = MountTable.read().at(first).orElseThrow().mountId();

    stopAgent(); // as after a crash: mounts and cache stay, nothing in memory survives
    client.resource(mount("it-second")).create();
    startAgent();

    Path second = node.mountBase.resolve("it-second");
    Eventually.within(
        CONVERGE,
        () -> {
          assertThat(phase("it-second")).isEqualTo(MountPhase.Mounted);
          assertThat(phase("it-first")).isEqualTo(MountPhase.Mounted);
        });
    assertThat(MountTable.read().at(first).orElseThrow().mountId())
        .as("adopted, not mounted again")
        .isEqualTo(mountId);
    assertThat(MountTable.read().mounts().stream().filter(m -> m.mountPoint().equals(first)))
        .hasSize(1);
    assertThat(second.resolve("opt/app/run")).exists();
    try (var staging = Files.list(node.stateDir.resolve("staging"))) {
      assertThat(staging.filter(p -> !p.toString().endsWith(".lock"))).isEmpty();
    }
  }

  @Test
  void afterARebootUppersComeBackAndThoseOfMountsDeletedMeanwhileGoUnlessRetained()
      throws Exception {
    OverlayMount retained = mount("it-retained");
    retained.getSpec().upper = new OverlayMount.Upper();
    retained.getSpec().upper.reclaimPolicy = OverlayMount.ReclaimPolicy.Retain;
    List<String> names = List.of("it-rebooted", "it-deleted", "it-retained");
    Map<String, String> uids = new java.util.HashMap<>();
    for (OverlayMount m : List.of(mount("it-rebooted"), mount("it-deleted"), retained)) {
      uids.put(m.getMetadata().getName(), client.resource(m).create().getMetadata().getUid());
    }
    Eventually.within(
        CONVERGE,
        () -> {
          for (String name : names) {
            assertThat(phase(name)).as(name).isEqualTo(MountPhase.Mounted);
          }
        });
    for (String name : names) {
      Files.writeString(node.mountBase.resolve(name).resolve("written"), name);
    }

    // The node reboots: the agent stops, every mount is gone, and two OverlayMounts are deleted
    // meanwhile, so there is nothing mounted for the agent to tear down when it is back.
    stopAgent();
    for (String name : names) {
      assertThat(
              new ProcessBuilder("umount", node.mountBase.resolve(name).toString())
                  .start()
                  .waitFor())
          .isZero();
    }
    client.resources(OverlayMount.class).withName("it-deleted").delete();
    client.resources(OverlayMount.class).withName("it-retained").delete();
    // An upper no OverlayMount made, as `strata unmount --retain-upper` leaves: not the agent's.
    Path byHand =
        Files.createDirectories(node.stateDir.resolve("uppers/by-hand/upper")).resolve("kept");
    Files.writeString(byHand, "mine");
    startAgent();

    Path uppers = node.stateDir.resolve("uppers");
    Eventually.within(
        CONVERGE,
        () -> {
          // the phase may still be the one reported before the reboot: look at the node
          assertThat(MountTable.read().at(node.mountBase.resolve("it-rebooted"))).isPresent();
          assertThat(uppers.resolve(uids.get("it-deleted"))).doesNotExist();
        });
    assertThat(node.mountBase.resolve("it-rebooted/written"))
        .as("the upper is mounted again, with what was written")
        .hasContent("it-rebooted");
    assertThat(uppers.resolve(uids.get("it-retained")).resolve("upper/written"))
        .as("Retain keeps the upper of a deleted mount")
        .hasContent("it-retained");
    assertThat(uppers.resolve(uids.get("it-rebooted"))).exists();
    assertThat(byHand).as("an upper the agent did not record").hasContent("mine");
  }

  @Test
  void aDeletedNodeLayerStateComesBackWithWhatTheNodeHolds() throws Exception {
    client.resource(mount("it-back")).create();
    Eventually.within(CONVERGE, () -> assertThat(phase("it-back")).isEqualTo(MountPhase.Mounted));
    String uid = client.resources(NodeLayerState.class).withName(NODE).get().getMetadata().getUid();

    client.resources(NodeLayerState.class).withName(NODE).delete();

    Eventually.within(
        CONVERGE,
        () -> {
          NodeLayerState back = client.resources(NodeLayerState.class).withName(NODE).get();
          assertThat(back).isNotNull();
          assertThat(back.getMetadata().getUid()).isNotEqualTo(uid);
          assertThat(back.getStatus()).isNotNull();
          assertThat(phase("it-back")).isEqualTo(MountPhase.Mounted);
        });
  }

  @Test
  void aFrozenApiServerChangesNothingOnTheNode() throws Exception {
    client.resource(mount("it-kept")).create();
    Path kept = node.mountBase.resolve("it-kept");
    Eventually.within(CONVERGE, () -> assertThat(phase("it-kept")).isEqualTo(MountPhase.Mounted));
    MountInfo before = MountTable.read().at(kept).orElseThrow();

    List<ProcessHandle> apiServer =
        ProcessHandle.current()
            .descendants()
            .filter(p -> p.info().command().orElse("").endsWith("kube-apiserver"))
            .toList();
    assertThat(apiServer).as("the test's own kube-apiserver").hasSize(1);
    long pid = apiServer.getFirst().pid();
    signal("STOP", pid);
    try {
      // 20 s of silence: list and watch calls hang and fail; the mount stays.
      Consistently.during(
          Duration.ofSeconds(20),
          () -> assertThat(MountTable.read().at(kept)).as("still mounted").isPresent());
    } finally {
      signal("CONT", pid);
    }
    Eventually.within(CONVERGE, () -> assertThat(phase("it-kept")).isEqualTo(MountPhase.Mounted));
    assertThat(MountTable.read().at(kept).orElseThrow().mountId()).isEqualTo(before.mountId());
  }

  private MountPhase phase(String name) {
    return NodeStates.overlayMount(client, NODE, name).map(e -> e.phase).orElse(null);
  }

  private void startAgent() throws Exception {
    agentClient = ControlPlane.shared().adminClient();
    // a full pass every 2 s, so passes really run while the API server is frozen
    AgentConfig config =
        AgentConfig.builder(NODE, node.stateDir, node.mountBase)
            .fileUrlDirs(TestResources.fileUrlDirs())
            .leaseDuration(Duration.ofSeconds(15))
            .resyncPeriod(Duration.ofSeconds(2))
            .concurrentFetches(2)
            .fetchTimeout(Duration.ofSeconds(30))
            .build();
    agent = new Agent(agentClient, config, Clock.systemUTC());
    agent.start();
  }

  private void stopAgent() throws Exception {
    if (agent != null) {
      agent.close();
      agent = null;
    }
    if (agentClient != null) {
      agentClient.close();
      agentClient = null;
    }
  }

  private static void signal(String signal, long pid) throws Exception {
    assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start().waitFor())
        .isZero();
  }

  private static OverlayMount mount(String name) {
    return TestResources.overlayMount(name, SUITE, "it-restart-set");
  }
}
