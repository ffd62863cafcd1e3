package io.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import io.strata.crd.NodeLayerState.MountPhase;
import io.strata.crd.NodeLayerState.OverlayMountEntry;
import io.strata.crd.OverlayMount;
import io.strata.oci.Digest;
import io.strata.overlay.MountTable;
import io.strata.testing.Eventually;
import io.strata.testing.FileServer;
import io.strata.testing.NodeStates;
import io.strata.testing.ProjectFiles;
import io.strata.testing.RootMounts;
import io.strata.testing.SimulatedNodes;
import io.strata.testing.TarBuilder;
import io.strata.testing.TestResources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two agents, each for its own Node with its own state dir and shared mount base, a real API server
 * and real mounts: the example layers served over http on loopback are fetched, materialized and
 * mounted on exactly the selected node, and unmounted when the mount goes.
 */
class AgentMountsIT {
  private static final Duration CONVERGE = Duration.ofSeconds(60);
  private static final Map<String, String> SUITE = Map.of("strata-test", "agent-mounts");

  @RegisterExtension final SimulatedNodes running = SimulatedNodes.suite(SUITE);
  @TempDir Path tmp;
  private KubernetesClient client;
  private FileServer layers;
  private RootMounts nodeA;
  private RootMounts nodeB;
  private Path slowLayers;
  private Path laterLayers;
  private Agent agentA;

  @BeforeEach
  void start() throws Exception {
    client = running.client();
    nodeA = running.node("it-mnt-a", Map.of("pool", "a"));
    nodeB = running.node("it-mnt-b", Map.of("pool", "b"));
    slowLayers = Files.createDirectories(tmp.resolve("slow"));
    laterLayers = Files.createDirectories(tmp.resolve("later"));
    // The example layers at /; this test's own at /slow/ (answered three seconds late, /slower/
    // eight) and at /later/ (404 until the file is there).
    layers =
        running.closeLast(
            new FileServer()
                .serve("/", ProjectFiles.examples().resolve("layers"), Duration.ZERO)
                .serve("/slow/", slowLayers, Duration.ofSeconds(3))
                .serve("/slower/", slowLayers, Duration.ofSeconds(8))
                .serve("/later/", laterLayers, Duration.ZERO));
    agentA = running.agent("it-mnt-a");
    running.agent("it-mnt-b");
    running.controller("it-mounts-controller");
  }

  @Test
  void theExampleIsMountedOnExactlyTheSelectedNodeAndUnmountedWhenDeleted() throws Exception {
    client.resource(exampleLayerSet("it-example")).create();
    OverlayMount om = client.resource(mount("it-example-om", "it-example", "a")).create();
    String uid = om.getMetadata().getUid();
    Path target = nodeA.mountBase.resolve("it-example-om");

    Eventually.within(
        CONVERGE,
        () -> {
          LayerSetEntry a = layerSet("it-mnt-a", "it-example");
          LayerSetEntry b = layerSet("it-mnt-b", "it-example");
          assertThat(a.phase).as(a.message).isEqualTo(LayerSetPhase.Ready);
          assertThat(b.phase).as(b.message).isEqualTo(LayerSetPhase.Ready);
          assertThat(a.chainId).matches("sha256:[a-f0-9]{64}").isEqualTo(b.chainId);
          assertThat(a.files).isEqualTo(3L);
          OverlayMountEntry mounted = mount("it-mnt-a", "it-example-om").orElseThrow();
          assertThat(mounted.phase).as(mounted.message).isEqualTo(MountPhase.Mounted);
          assertThat(mounted.target).isEqualTo(target.toString());
          assertThat(mounted.lowerdir).isEqualTo(a.root);
          assertThat(mount("it-mnt-b", "it-example-om")).isEmpty();
        });

    assertThat(MountTable.read().at(target))
        .get()
        .satisfies(
            m -> {
              assertThat(m.source()).isEqualTo("strata:" + uid);
              assertThat(m.mountOptions()).contains("nosuid", "nodev");
            });
    assertThat(Files.readString(target.resolve("usr/share/greeting/app.txt")))
        .isEqualTo("hello from the app layer\n");
    assertThat(target.resolve("usr/share/greeting/base.txt"))
        .as("whited out by the app layer")
        .doesNotExist();
    assertThat(target.resolve("opt/app/run")).isExecutable();
    Files.writeString(target.resolve("written-by-a-pod"), "mine");
    assertThat(nodeA.stateDir.resolve("uppers").resolve(uid).resolve("upper/written-by-a-pod"))
        .exists();
    assertThat(nodeB.mountsBeneath())
        .as("node b mounts nothing but its base")
        .allSatisfy(m -> assertThat(m.mountPoint()).isEqualTo(nodeB.mountBase));

    client.resource(om).delete();
    Eventually.within(
        CONVERGE,
        () -> {
          assertThat(mount("it-mnt-a", "it-example-om")).isEmpty();
          assertThat(MountTable.read().at(target)).isEmpty();
        });
    assertThat(target).as("the empty target directory goes too").doesNotExist();
    Eventually.within(
        CONVERGE,
        () ->
            assertThat(client.nodes().withName("it-mnt-a").get().getMetadata().getLabels())
                .as("the label goes when the mount does")
                .doesNotContainKey("overlaymount.strata.io/it-example-om"));
    assertThat(nodeA.stateDir.resolve("uppers").resolve(uid))
        .as("reclaimPolicy Delete")
        .doesNotExist();
  }

  /**
   * A mistaken {@code kubectl delete lset} loses nothing: while an OverlayMount uses the LayerSet,
   * the mount stays with everything written into it, and the LayerSet waits (InUse). Deleting the
   * OverlayMount then tears the mount down and lets the LayerSet go.
   */
  @Test
  void deletingALayerSetAMountUsesKeepsTheMountAndWhatWasWrittenIntoIt() throws Exception {
    client.resource(exampleLayerSet("it-kept")).create();
    OverlayMount om = client.resource(mount("it-kept-om", "it-kept", "a")).create();
    Path target = nodeA.mountBase.resolve("it-kept-om");
    Eventually.within(
        CONVERGE,
        () ->
            assertThat(mount("it-mnt-a", "it-kept-om").orElseThrow().phase)
                .isEqualTo(MountPhase.Mounted));
    Files.writeString(target.resolve("written-by-a-pod"), "mine");

    client.resources(LayerSet.class).withName("it-kept").delete();
    // The agent handles events in order: once it reports a LayerSet created after the deletion,
    // the pass that did so saw the LayerSet being deleted.
    LayerSet probe = exampleLayerSet("it-kept-probe");
    probe.getSpec().nodeSelector = new LabelSelectorBuilder().addToMatchLabels("pool", "a").build();
    client.resource(probe).create();
    Eventually.within(
        CONVERGE,
        () -> {
          assertThat(layerSet("it-mnt-a", "it-kept-probe").phase).isEqualTo(LayerSetPhase.Ready);
          LayerSet stored = client.resources(LayerSet.class).withName("it-kept").get();
          assertThat(stored.getMetadata().getDeletionTimestamp()).isNotNull();
          assertThat(stored.getStatus().conditions)
              .anySatisfy(c -> assertThat(c.getReason()).isEqualTo("InUse"));
        });
    assertThat(mount("it-mnt-a", "it-kept-om").orElseThrow().phase).isEqualTo(MountPhase.Mounted);
    assertThat(layerSet("it-mnt-a", "it-kept").phase).isEqualTo(LayerSetPhase.Ready);
    assertThat(MountTable.read().at(target)).isPresent();
    assertThat(target.resolve("written-by-a-pod")).hasContent("mine");

    client.resource(om).delete();
    Eventually.within(
        CONVERGE,
        () -> {
          assertThat(MountTable.read().at(target)).isEmpty();
          assertThat(client.resources(LayerSet.class).withName("it-kept").get()).isNull();
        });
  }

  @Test
  void aLayerSetChangedUnderABusyMountReportsOutdatedAndMovesOnceFree() throws Exception {
    client.resource(exampleLayerSet("it-change")).create();
    client.resource(mount("it-change-om", "it-change", "a")).create();
    Path target = nodeA.mountBase.resolve("it-change-om");
    Eventually.within(
        CONVERGE,
        () ->
            assertThat(mount("it-mnt-a", "it-change-om").orElseThrow().phase)
                .isEqualTo(MountPhase.Mounted));
    String oldRoot = mount("it-mnt-a", "it-change-om").orElseThrow().lowerdir;
    assertThat(target.resolve("usr/share/greeting/app.txt")).exists();

    // A process working in the mount: unmounting it now would fail with EBUSY.
    Process user = new ProcessBuilder("sleep", "300").directory(target.toFile()).start();
    try {
      TestResources.edit(
          client.resources(LayerSet.class).withName("it-change"),
          l -> {
            l.getSpec().layers = new ArrayList<>(l.getSpec().layers.subList(0, 1));
            return l;
          });
      Eventually.within(
          CONVERGE,
          () -> {
            LayerSetEntry changed = layerSet("it-mnt-a", "it-change");
            assertThat(changed.phase).isEqualTo(LayerSetPhase.Ready);
            assertThat(changed.root).isNotEqualTo(oldRoot);
            OverlayMountEntry entry = mount("it-mnt-a", "it-change-om").orElseThrow();
            assertThat(entry.phase).isEqualTo(MountPhase.Mounted);
            assertThat(entry.reason).isEqualTo("Outdated");
            assertThat(entry.lowerdir).isEqualTo(oldRoot);
          });
      assertThat(target.resolve("usr/share/greeting/app.txt"))
          .as("its users still see the old root")
          .exists();
      assertThat(Path.of(oldRoot)).as("a root stays while anything mounts it").isDirectory();
    } finally {
      user.destroyForcibly().waitFor();
    }

    Eventually.within(
        CONVERGE,
        () -> {
          OverlayMountEntry entry = mount("it-mnt-a", "it-change-om").orElseThrow();
          assertThat(entry.reason).isNull();
          assertThat(entry.lowerdir).isEqualTo(layerSet("it-mnt-a", "it-change").root);
        });
    assertThat(target.resolve("usr/share/greeting/app.txt"))
        .as("the new root has only the base layer")
        .doesNotExist();
    assertThat(target.resolve("usr/share/greeting/base.txt")).exists();
  }

  @Test
  void aDigestMismatchFailsOnlyThatLayerSetWithAClearReason() throws Exception {
    client.resource(exampleLayerSet("it-good")).create();
    LayerSet bad = exampleLayerSet("it-bad");
    bad.getSpec().layers.get(1).digest = "sha256:" + "0".repeat(64);
    client.resource(bad).create();
    Eventually.within(
        CONVERGE,
        () -> {
          for (String node : List.of("it-mnt-a", "it-mnt-b")) {
            LayerSetEntry failed = layerSet(node, "it-bad");
            assertThat(failed.phase).isEqualTo(LayerSetPhase.Failed);
            assertThat(failed.reason).isEqualTo("DigestMismatch");
            assertThat(failed.message).contains("expected sha256:" + "0".repeat(64));
            assertThat(layerSet(node, "it-good").phase).isEqualTo(LayerSetPhase.Ready);
          }
          LayerSet.Status status =
              client.resources(LayerSet.class).withName("it-bad").get().getStatus();
          assertThat(status.failedNodes)
              .extracting(f -> f.nodeName)
              .containsExactly("it-mnt-a", "it-mnt-b");
          assertThat(status.failedNodes)
              .allSatisfy(f -> assertThat(f.reason).isEqualTo("DigestMismatch"));
          assertThat(status.conditions)
              .anySatisfy(
                  c -> {
                    assertThat(c.getType()).isEqualTo("Degraded");
                    assertThat(c.getStatus()).isEqualTo("True");
                    assertThat(c.getReason()).isEqualTo("NodesFailed");
                  });
        });
  }

  @Test
  void twoLayerSetsThatShareABaseHaveItExtractedOnce() throws Exception {
    // The second layer of "it-share-slow" is served three seconds late, so that LayerSet is still
    // fetching while "it-share-quick" builds: the quick build must publish the base they share.
    Path slowLayer =
        new TarBuilder().file("slow.txt", "slow").write(slowLayers.resolve("slow.tar"));
    client.resource(onTheExampleBase("it-share-slow", "/slow/", slowLayer)).create();
    LayerSet quick = exampleLayerSet("it-share-quick");
    quick.getSpec().nodeSelector = new LabelSelectorBuilder().addToMatchLabels("pool", "a").build();
    client.resource(quick).create();

    assertTheBaseWasExtractedOnce("it-share-slow", "it-share-quick");
    assertThat(Path.of(layerSet("it-mnt-a", "it-share-slow").root).resolve("slow.txt"))
        .hasContent("slow");
  }

  @Test
  void aLayerSetWaitingForAFetchWorkerHasTheBaseItSharesPublishedForIt() throws Exception {
    // One fetch worker: "it-queue-first" holds it for three seconds (its second layer is served
    // late) while "it-queue-next" waits for it; the first build must publish the base they share.
    holdTheOnlyFetchWorker("it-queue-first", "/slow/");
    Path nextLayer =
        new TarBuilder().file("next.txt", "next").write(laterLayers.resolve("next.tar"));
    client.resource(onTheExampleBase("it-queue-next", "/later/", nextLayer)).create();

    assertTheBaseWasExtractedOnce("it-queue-first", "it-queue-next");
  }

  @Test
  void aLayerSetChangedWhileItWaitsForAFetchWorkerNeverFetchesWhatItNoLongerAsksFor()
      throws Exception {
    // One fetch worker, held for eight seconds; "it-changed" waits behind it and then changes its
    // second layer: the work queued for the old spec must be dropped, not fetched and thrown away.
    holdTheOnlyFetchWorker("it-hold", "/slower/");
    Path oldLayer = new TarBuilder().file("old.txt", "old").write(laterLayers.resolve("old.tar"));
    Path newLayer = new TarBuilder().file("new.txt", "new").write(laterLayers.resolve("new.tar"));
    client.resource(onTheExampleBase("it-changed", "/later/", oldLayer)).create();
    Eventually.within(
        CONVERGE,
        () ->
            assertThat(layerSet("it-mnt-a", "it-changed").phase).isEqualTo(LayerSetPhase.Pending));
    List<LayerSet.Layer> changed =
        onTheExampleBase("it-changed", "/later/", newLayer).getSpec().layers;
    TestResources.edit(
        client.resources(LayerSet.class).withName("it-changed"),
        l -> {
          l.getSpec().layers = changed;
          return l;
        });

    Eventually.within(
        CONVERGE,
        () -> {
          for (String name : List.of("it-hold", "it-changed")) {
            LayerSetEntry entry = layerSet("it-mnt-a", name);
            assertThat(entry.phase).as(name + ": " + entry.message).isEqualTo(LayerSetPhase.Ready);
          }
        });
    assertThat(Path.of(layerSet("it-mnt-a", "it-changed").root).resolve("new.txt"))
        .hasContent("new");
    assertThat(layers.requests("/later/", "new.tar")).isEqualTo(1);
    assertThat(layers.requests("/later/", "old.tar"))
        .as("the old spec's queued work was dropped before it fetched")
        .isZero();
  }

  /**
   * Restarts node a's agent with one fetch worker and holds it: LayerSet {@code name} (on the
   * example's base) fetches its second layer from {@code path}, a late one, when this returns.
   */
  private void holdTheOnlyFetchWorker(String name, String path) throws Exception {
    running.stop(agentA);
    running.agent("it-mnt-a", config -> config.concurrentFetches(1));
    Path slowLayer =
        new TarBuilder().file("slow.txt", "slow").write(slowLayers.resolve("slow.tar"));
    client.resource(onTheExampleBase(name, path, slowLayer)).create();
    Eventually.within(
        CONVERGE,
        () -> assertThat(layerSet("it-mnt-a", name).phase).isEqualTo(LayerSetPhase.Fetching));
  }

  /**
   * The example's first layer, then {@code layer} as served at {@code path} of the loopback server;
   * on pool "a" only.
   */
  private LayerSet onTheExampleBase(String name, String path, Path layer) throws Exception {
    LayerSet layerSet = exampleLayerSet(name);
    layerSet.getSpec().nodeSelector =
        new LabelSelectorBuilder().addToMatchLabels("pool", "a").build();
    LayerSet.Layer second =
        new LayerSet.Layer(
            layers.url(path, layer.getFileName().toString()), Digest.ofFile(layer).toString());
    second.mediaType = "application/vnd.oci.image.layer.v1.tar";
    layerSet.getSpec().layers = List.of(layerSet.getSpec().layers.getFirst(), second);
    return layerSet;
  }

  /** Both LayerSets Ready on node a, their roots linking one extraction of the example's base. */
  private void assertTheBaseWasExtractedOnce(String one, String other) throws Exception {
    Eventually.within(
        CONVERGE,
        () -> {
          for (String name : List.of(one, other)) {
            LayerSetEntry entry = layerSet("it-mnt-a", name);
            assertThat(entry.phase).as(name + ": " + entry.message).isEqualTo(LayerSetPhase.Ready);
          }
        });
    Path oneRoot = Path.of(layerSet("it-mnt-a", one).root);
    Path otherRoot = Path.of(layerSet("it-mnt-a", other).root);
    assertThat(Files.getAttribute(oneRoot.resolve("etc/os-release"), "unix:ino"))
        .as("one extraction of the base: both roots link its files")
        .isEqualTo(Files.getAttribute(otherRoot.resolve("etc/os-release"), "unix:ino"));
    try (var roots = Files.list(nodeA.stateDir.resolve("layers"))) {
      assertThat(roots).as("the two tips and the base they share").hasSize(3);
    }
  }

  @Test
  void aLayerSetWhoseBlobIsNotServedYetIsTriedAgainUntilItIs() throws Exception {
    Path later = new TarBuilder().file("later.txt", "later").write(tmp.resolve("later.tar"));
    LayerSet layerSet = exampleLayerSet("it-later");
    layerSet.getSpec().nodeSelector =
        new LabelSelectorBuilder().addToMatchLabels("pool", "a").build();
    LayerSet.Layer missing =
        new LayerSet.Layer(layers.url("/later/", "later.tar"), Digest.ofFile(later).toString());
    missing.mediaType = "application/vnd.oci.image.layer.v1.tar";
    layerSet.getSpec().layers = List.of(missing);
    client.resource(layerSet).create();
    Eventually.within(
        CONVERGE,
        () -> {
          LayerSetEntry failed = layerSet("it-mnt-a", "it-later");
          assertThat(failed.phase).isEqualTo(LayerSetPhase.Failed);
          assertThat(failed.reason).isEqualTo("NotFound");
          assertThat(failed.message).contains("trying again in 20s"); // a second attempt failed
        });

    Files.copy(later, laterLayers.resolve("later.tar")); // the server has it now
    Eventually.within(
        CONVERGE,
        () -> {
          LayerSetEntry ready = layerSet("it-mnt-a", "it-later");
          assertThat(ready.phase).as(ready.message).isEqualTo(LayerSetPhase.Ready);
          assertThat(Path.of(ready.root).resolve("later.txt")).hasContent("later");
        });
    String uid = client.resources(LayerSet.class).withName("it-later").get().getMetadata().getUid();
    assertThat(
            client.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> uid.equals(e.getInvolvedObject().getUid()))
                .filter(e -> "NotFound".equals(e.getReason())))
        .as("one failure, however many attempts: a retry stays Failed until it gets further")
        .hasSize(1);
  }

  private LayerSetEntry layerSet(String node, String name) {
    return NodeStates.layerSet(client, node, name)
        .orElseThrow(() -> new AssertionError(node + " does not list LayerSet " + name));
  }

  private Optional<OverlayMountEntry> mount(String node, String name) {
    return NodeStates.overlayMount(client, node, name);
  }

  /** examples/layerset.yaml, renamed, its URLs pointed at this test's loopback server. */
  private LayerSet exampleLayerSet(String name) throws Exception {
    return TestResources.exampleLayerSet(name, SUITE, file -> layers.url("/", file));
  }

  private static OverlayMount mount(String name, String layerSet, String pool) {
    OverlayMount mount = TestResources.overlayMount(name, SUITE, layerSet);
    mount.getSpec().nodeSelector =
        new LabelSelectorBuilder().addToMatchLabels("pool", pool).build();
    return mount;
  }
}
