package io.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import io.strata.crd.NodeLayerState.MountPhase;
import io.strata.oci.Digest;
import io.strata.overlay.MountTable;
import io.strata.testing.Eventually;
import io.strata.testing.FaultyDisk;
import io.strata.testing.NodeStates;
import io.strata.testing.ProjectFiles;
import io.strata.testing.RootMounts;
import io.strata.testing.SimulatedNodes;
import io.strata.testing.TarBuilder;
import io.strata.testing.TestResources;
import io.strata.testing.Tools;
import io.strata.testing.TreeSnapshot;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's state dir on a disk that fails ({@link FaultyDisk}): new work fails with IOError and
 * says so in the node's status while what is mounted stays; after a repair, or a power cut, and a
 * reboot, the node comes back to what was asked, its committed roots and uppers intact.
 */
class AgentDiskFaultsIT {
  private static final Duration CONVERGE = Duration.ofSeconds(60);
  private static final String NODE = "it-disk";
  private static final Map<String, String> SUITE = Map.of("strata-test", "agent-disk");

  @RegisterExtension final SimulatedNodes running = SimulatedNodes.suite(SUITE);
  @TempDir Path tmp;
  private RootMounts node;
  private FaultyDisk disk;
  private Path stateDir;
  private KubernetesClient client;
  private Agent agent;

  @BeforeEach
  void start() throws Exception {
    client = running.client();
    node = running.node(NODE, Map.of());
    // Closed once the node's overlays, whose uppers it holds, are gone.
    disk = running.closeLast(FaultyDisk.ext4(Files.createDirectories(tmp.resolve("disk")), "600M"));
    stateDir = disk.path().resolve("state");
    client
        .resource(
            TestResources.exampleLayerSet(
                "it-disk-set",
                SUITE,
                file -> ProjectFiles.examples().resolve("layers").resolve(file).toUri().toString()))
        .create();
    client.resource(TestResources.overlayMount("it-disk-mount", SUITE, "it-disk-set")).create();
    startAgent();
    Eventually.within(
        CONVERGE, () -> assertThat(mountPhase("it-disk-mount")).isEqualTo(MountPhase.Mounted));
  }

  @Test
  void aFailingDiskFailsNewWorkWithIOErrorAndLeavesTheMountAlone() throws Exception {
    Path merged = node.mountBase.resolve("it-disk-mount");
    writeDurably(merged.resolve("written"), "before the fault");
    int mountId = MountTable.read().at(merged).orElseThrow().mountId();

    disk.failWrites(true);
    Path layer = new TarBuilder().file("new", "new").write(tmp.resolve("new.tar"));
    client
        .resource(
            TestResources.layerSet(
                "it-disk-new", SUITE, layer.toUri().toString(), Digest.ofFile(layer)))
        .create();
    Eventually.within(
        CONVERGE,
        () -> {
          LayerSetEntry failed = NodeStates.layerSet(client, NODE, "it-disk-new").orElseThrow();
          assertThat(failed.phase).isEqualTo(LayerSetPhase.Failed);
          assertThat(failed.reason).isEqualTo("IOError");
          assertThat(failed.message).contains(stateDir.toString());
        });
    assertThat(disk.refused()).isPositive();
    assertThat(MountTable.read().at(merged).orElseThrow().mountId())
        .as("the mount made before the fault")
        .isEqualTo(mountId);
    assertThat(mountPhase("it-disk-mount")).isEqualTo(MountPhase.Mounted);

    reboot();
    Eventually.within(
        CONVERGE,
        () -> {
          assertThat(layerSetPhase("it-disk-new")).isEqualTo(LayerSetPhase.Ready);
          assertThat(MountTable.read().at(merged)).isPresent();
        });
    assertThat(merged.resolve("written")).hasContent("before the fault");
    assertThat(merged.resolve("etc/os-release")).exists();
  }

  @Test
  void afterAPowerCutTheRootsAndUppersTheAgentReportedAreThere() throws Exception {
    Path merged = node.mountBase.resolve("it-disk-mount");
    writeDurably(merged.resolve("written"), "before the power cut");
    Path root = Path.of(NodeStates.layerSet(client, NODE, "it-disk-set").orElseThrow().root);
    Object inode = Files.getAttribute(root, "unix:ino");
    TreeSnapshot before = TreeSnapshot.of(root);

    disk.failWrites(true); // the power goes: nothing from here on reaches the disk
    reboot();
    Eventually.within(CONVERGE, () -> assertThat(MountTable.read().at(merged)).isPresent());
    assertThat(Files.getAttribute(root, "unix:ino"))
        .as("the root the agent reported Ready, kept, not built again")
        .isEqualTo(inode);
    assertThat(TreeSnapshot.of(root)).as("its files").isEqualTo(before);
    assertThat(merged.resolve("written")).hasContent("before the power cut");
    assertThat(layerSetPhase("it-disk-set")).isEqualTo(LayerSetPhase.Ready);
  }

  /**
   * Writes {@code content} and syncs that file alone, as a careful program does; a {@code sync} of
   * the whole filesystem would also sync what the agent left unsynced.
   */
  private static void writeDurably(Path file, String content) throws Exception {
    Files.writeString(file, content);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
  }

  /**
   * The node goes down and comes back: the agent stops, the mounts go, the disk is checked and
   * mounted again (what had not reached it is lost), the agent starts.
   */
  private void reboot() throws Exception {
    stopAgent();
    for (var mount : node.mountsBeneath()) {
      Path at = mount.mountPoint();
      if (at.startsWith(node.mountBase) && !at.equals(node.mountBase)) {
        Tools.run(tmp, "umount", mount.mountPoint().toString());
      }
    }
    disk.repairAndRemount();
    startAgent();
  }

  private MountPhase mountPhase(String name) {
    return NodeStates.overlayMount(client, NODE, name).map(e -> e.phase).orElse(null);
  }

  private LayerSetPhase layerSetPhase(String name) {
    return NodeStates.layerSet(client, NODE, name).map(e -> e.phase).orElse(null);
  }

  private void startAgent() throws Exception {
    agent =
        running.agent(
            AgentConfig.builder(NODE, stateDir, node.mountBase)
                .fileUrlDirs(TestResources.fileUrlDirs(tmp))
                .resyncPeriod(Duration.ofSeconds(2))
                .build());
  }

  private void stopAgent() throws Exception {
    if (agent != null) {
      running.stop(agent);
      agent = null;
    }
  }
}
