package io.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import io.strata.crd.NodeLayerState.MountPhase;
import io.strata.crd.OverlayMount;
import io.strata.layout.NodeLayout;
import io.strata.oci.Digest;
import io.strata.overlay.MountInfo;
import io.strata.overlay.MountTable;
import io.strata.testing.ControlPlane;
import io.strata.testing.Eventually;
import io.strata.testing.FileServer;
import io.strata.testing.NodeStates;
import io.strata.testing.ProjectFiles;
import io.strata.testing.RootMounts;
import io.strata.testing.TestNodes;
import io.strata.testing.TestResources;
import io.strata.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code strata agent} as a real process, killed with SIGKILL in the middle of materializing a real
 * root filesystem and in the middle of a batch of mounts, then started again: it converges with no
 * duplicate mount and no leftover staging, keeps the mounts it had made (adopted, not mounted
 * again), and does the work created while it was down.
 */
class AgentKillIT {
  private static final Duration CONVERGE = Duration.ofSeconds(120);
  private static final String NODE = "it-kill";
  private static final Map<String, String> SUITE = Map.of("strata-test", "agent-kill");

  @TempDir Path tmp;
  private RootMounts node;
  private KubernetesClient client;
  private Process agent;
  private Path kubeconfig;

  @BeforeEach
  void start() throws Exception {
    node = RootMounts.prepare(tmp);
    client = ControlPlane.shared().adminClient();
    kubeconfig = ControlPlane.shared().writeKubeconfig(tmp.resolve("kubeconfig"));
    TestNodes.create(client, NODE, SUITE);
  }

  @AfterEach
  void stop() throws Exception {
    if (client != null) {
      TestResources.deleteSuite(client, SUITE);
      if (agent != null && agent.isAlive()) {
        Eventually.within(CONVERGE, () -> assertThat(node.mountsBeneath()).hasSize(1));
      }
    }
    kill();
    if (node != null) {
      node.cleanUp();
    }
    if (client != null) {
      TestNodes.delete(client, NODE);
      client.close();
    }
  }

  @Test
  void sigkillMidMaterializeAndMidMountThenRestartConverges() throws Exception {
    Path rootfs = Tools.testRootfsTar(); // 150 MB of a real root filesystem: seconds to build
    client
        .resource(
            TestResources.layerSet(
                "kill-big", SUITE, rootfs.toUri().toString(), Digest.ofFile(rootfs)))
        .create();
    startAgent();
    Eventually.within(
        CONVERGE,
        () ->
            assertThat(NodeStates.layerSet(client, NODE, "kill-big").map(e -> e.phase))
                .contains(LayerSetPhase.Materializing));
    // Well inside the build: its staging tree holds files.
    Eventually.within(
        CONVERGE, Duration.ofMillis(20), () -> assertThat(leftoverStaging()).isNotEmpty());
    kill();
    assertThat(leftoverStaging())
        .as("killed mid-build: a half-made tree is left in staging")
        .isNotEmpty();

    // Work created while the agent is down.
    List<String> firstMounts = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      firstMounts.add("kill-om-" + i);
      client.resource(TestResources.overlayMount("kill-om-" + i, SUITE, "kill-big")).create();
    }
    startAgent();
    Eventually.within(
        CONVERGE,
        () -> {
          assertThat(NodeStates.layerSet(client, NODE, "kill-big").orElseThrow().phase)
              .isEqualTo(LayerSetPhase.Ready);
          for (String name : firstMounts) {
            assertThat(NodeStates.overlayMount(client, NODE, name).map(e -> e.phase))
                .contains(MountPhase.Mounted);
          }
        });
    assertNoLeftoverStaging();
    Map<String, Integer> mountIds = new HashMap<>();
    for (String name : firstMounts) {
      mountIds.put(name, onlyMountAt(node.mountBase.resolve(name)).mountId());
    }

    // A batch of mounts, killed as soon as the first of them is made.
    List<String> batch = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      batch.add("kill-batch-" + i);
      client.resource(TestResources.overlayMount("kill-batch-" + i, SUITE, "kill-big")).create();
    }
    Eventually.within(
        CONVERGE,
        Duration.ofMillis(20),
        () -> assertThat(MountTable.read().at(node.mountBase.resolve("kill-batch-0"))).isPresent());
    kill();
    long madeBeforeKill =
        batch.stream().filter(n -> readMount(node.mountBase.resolve(n)).isPresent()).count();

    startAgent();
    Eventually.within(
        CONVERGE,
        () -> {
          for (String name : batch) {
            assertThat(NodeStates.overlayMount(client, NODE, name).map(e -> e.phase))
                .as(name)
                .contains(MountPhase.Mounted);
          }
        });
    for (String name : batch) {
      onlyMountAt(node.mountBase.resolve(name)); // exactly one mount per target
    }
    for (String name : firstMounts) {
      assertThat(onlyMountAt(node.mountBase.resolve(name)).mountId())
          .as("%s adopted across two kills, never mounted again", name)
          .isEqualTo(mountIds.get(name));
    }
    assertThat(node.mountBase.resolve("kill-batch-19/etc/debian_version")).exists();
    assertNoLeftoverStaging();
    System.out.printf(
        "AgentKillIT: %d of 20 mounts were made before the second kill%n", madeBeforeKill);
  }

  @Test
  void sigkillMidDownloadResumesFromWhereTheDownloadStopped() throws Exception {
    Path rootfs = Tools.testRootfsTar();
    Digest digest = Digest.ofFile(rootfs);
    String name = rootfs.getFileName().toString();
    // 32 MiB/s: the 150 MB root filesystem takes about five seconds to come.
    try (FileServer server = new FileServer().serveThrottled("/", rootfs.getParent(), 32 << 20)) {
      client
          .resource(TestResources.layerSet("kill-download", SUITE, server.url("/", name), digest))
          .create();
      startAgent();
      Path partial = node.stateDir.resolve("ingest/" + digest.hex() + ".partial");
      Eventually.within(
          CONVERGE,
          Duration.ofMillis(20),
          () -> assertThat(Files.exists(partial) && Files.size(partial) > 32 << 20).isTrue());
      kill();
      long kept = Files.size(partial);
      assertThat(kept).as("killed mid-download").isLessThan(Files.size(rootfs));

      startAgent();
      Eventually.within(
          CONVERGE,
          () ->
              assertThat(NodeStates.layerSet(client, NODE, "kill-download").map(e -> e.phase))
                  .contains(LayerSetPhase.Ready));
      assertThat(server.ranges("/", name))
          .as("the restarted agent asks only for the rest")
          .containsExactly("none", "bytes=" + kept + "-");
      assertThat(partial).doesNotExist();
      assertNoLeftoverStaging();
    }
  }

  @Test
  void twentySigkillsInARowLoseNoWriteAndLeaveOneMountEach() throws Exception {
    client
        .resource(
            TestResources.exampleLayerSet(
                "kill-loop",
                SUITE,
                file -> ProjectFiles.examples().resolve("layers").resolve(file).toUri().toString()))
        .create();
    List<String> live = new ArrayList<>(List.of("kill-loop-0", "kill-loop-1", "kill-loop-2"));
    for (String name : live) {
      client.resource(TestResources.overlayMount(name, SUITE, "kill-loop")).create();
    }
    startAgent();
    Eventually.within(
        CONVERGE,
        () ->
            assertThat(NodeStates.overlayMount(client, NODE, "kill-loop-0").map(e -> e.phase))
                .contains(MountPhase.Mounted));
    Path written = node.mountBase.resolve("kill-loop-0/written-before-the-kills");
    Files.writeString(written, "kept");

    // A crash loop: each agent lives 0.5-3.5 s, from before its lock to well into its work, which
    // now includes building a real root filesystem (seconds) and mounting it.
    Path rootfs = Tools.testRootfsTar();
    client
        .resource(
            TestResources.layerSet(
                "kill-loop-big", SUITE, rootfs.toUri().toString(), Digest.ofFile(rootfs)))
        .create();
    client.resource(TestResources.overlayMount("kill-loop-big-0", SUITE, "kill-loop-big")).create();
    live.add("kill-loop-big-0");
    long seed = System.nanoTime();
    java.util.Random random = new java.util.Random(seed);
    List<Integer> mountedAtEachKill = new ArrayList<>();
    int midBuild = 0;
    for (int i = 0; i < 20; i++) {
      if (i == 10) { // work that comes and goes while the agent crash-loops
        client.resource(TestResources.overlayMount("kill-loop-3", SUITE, "kill-loop")).create();
        client.resources(OverlayMount.class).withName("kill-loop-1").delete();
        live.add("kill-loop-3");
        live.remove("kill-loop-1");
      }
      mountedAtEachKill.add(node.mountsBeneath().size() - 1); // less the base itself
      midBuild += leftoverStaging().isEmpty() ? 0 : 1;
      kill();
      startAgent();
      Thread.sleep(500 + random.nextInt(3_000));
    }
    System.out.printf(
        "AgentKillIT: kill times from seed %d; mounts at each kill %s; %d kills mid-build%n",
        seed, mountedAtEachKill, midBuild);

    Eventually.within(
        CONVERGE,
        () -> {
          for (String name : live) {
            assertThat(NodeStates.overlayMount(client, NODE, name).map(e -> e.phase))
                .as("%s (kill times from seed %d)", name, seed)
                .contains(MountPhase.Mounted);
          }
          assertThat(NodeStates.overlayMount(client, NODE, "kill-loop-1")).isEmpty();
          assertThat(readMount(node.mountBase.resolve("kill-loop-1"))).isEmpty();
          assertThat(upperHomes()).as("one upper per live mount").hasSize(live.size());
        });
    for (String name : live) {
      onlyMountAt(node.mountBase.resolve(name));
    }
    assertThat(written).as("a write made before the crash loop").hasContent("kept");
    assertThat(upperHomes())
        .containsExactlyInAnyOrderElementsOf(
            live.stream()
                .map(n -> client.resources(OverlayMount.class).withName(n).get())
                .map(m -> m.getMetadata().getUid())
                .toList());
    assertNoLeftoverStaging();
  }

  private List<String> upperHomes() throws Exception {
    try (Stream<Path> uppers = Files.list(node.stateDir.resolve(NodeLayout.UPPERS))) {
      return uppers.map(p -> p.getFileName().toString()).toList();
    }
  }

  private void assertNoLeftoverStaging() throws Exception {
    assertThat(leftoverStaging()).isEmpty();
  }

  private List<Path> leftoverStaging() throws Exception {
    try (Stream<Path> staging = Files.list(node.stateDir.resolve("staging"))) {
      return staging.filter(p -> !p.toString().endsWith(".lock")).toList();
    }
  }

  private static Optional<MountInfo> readMount(Path target) {
    try {
      return MountTable.read().at(target);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static MountInfo onlyMountAt(Path target) throws Exception {
    List<MountInfo> at =
        MountTable.read().mounts().stream().filter(m -> m.mountPoint().equals(target)).toList();
    assertThat(at).as("mounts at %s", target).hasSize(1);
    return at.getFirst();
  }

  private void startAgent() throws Exception {
    agent =
        TestNodes.agentProcess(
                NODE,
                node.stateDir,
                node.mountBase,
                kubeconfig,
                List.of(),
                "--resync=PT5S",
                "--allow-file-urls="
                    + String.join(
                        ",", TestResources.fileUrlDirs().stream().map(Path::toString).toList()))
            .redirectOutput(ProcessBuilder.Redirect.appendTo(tmp.resolve("agent.log").toFile()))
            .start();
  }

  /** SIGKILL: no shutdown hook, no cleanup, as when the node's OOM killer or a crash hits. */
  private void kill() throws InterruptedException {
    if (agent != null) {
      agent.destroyForcibly(); // SIGKILL on Linux
      agent.waitFor();
      agent = null;
    }
  }
}
