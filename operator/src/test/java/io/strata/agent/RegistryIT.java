package io.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.strata.crd.LayerSet;
import io.strata.crd.NameReference;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import io.strata.crd.StrataApi;
import io.strata.oci.Digest;
import io.strata.testing.Consistently;
import io.strata.testing.Eventually;
import io.strata.testing.FileServer;
import io.strata.testing.LocalRegistry;
import io.strata.testing.NodeStates;
import io.strata.testing.RootMounts;
import io.strata.testing.SimulatedNodes;
import io.strata.testing.TarBuilder;
import io.strata.testing.TestImages;
import io.strata.testing.TestResources;
import io.strata.testing.TokenIssuer;
import io.strata.testing.Tools;
import io.strata.testing.TreeSnapshot;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * LayerSets naming images in a real registry (docker-registry on loopback), with the agent and the
 * controller against a real API server: tags are pinned by the controller once per generation, an
 * index yields the Node's architecture, roots equal {@code umoci unpack}, and every way a pull
 * fails ends in a clear reason on the node.
 */
class RegistryIT {
  private static final Duration CONVERGE = Duration.ofSeconds(60);
  private static final String NODE = "it-registry-node";
  private static final String REPO = "strata/e2e";
  private static final Map<String, String> SUITE = Map.of("strata-test", "registry");

  @TempDir static Path shared;
  static TestImages images;

  @RegisterExtension final SimulatedNodes running = SimulatedNodes.suite(SUITE);
  @TempDir Path tmp;
  private KubernetesClient client;
  private RootMounts node;
  private Agent agent;

  @BeforeAll
  static void buildImages() throws Exception {
    Tools.requireRoot("materializing and umoci unpack need root");
    images = TestImages.build(shared.resolve("images"));
  }

  @BeforeEach
  void start() throws Exception {
    client = running.client();
    // arm64 picks the arm64 manifest of an index
    node = running.node(NODE, Map.of("kubernetes.io/os", "linux", "kubernetes.io/arch", "arm64"));
    agent = running.agent(NODE);
    running.controller("it-registry-controller");
  }

  @AfterEach
  void deleteSecrets() {
    client.secrets().inNamespace(StrataApi.DEFAULT_NAMESPACE).withLabels(SUITE).delete();
  }

  @Test
  void imagesByTagAndByDigestMaterializeWhatUmociUnpacks() throws Exception {
    try (LocalRegistry registry = LocalRegistry.plain(tmp.resolve("registry"))) {
      images.push("multi", registry.host(), REPO, "multi", null);
      images.push("v1", registry.host(), REPO, "1.0", null);
      String repo = registry.host() + "/" + REPO;
      create(layerSet("reg-multi", repo + ":multi", null));
      create(layerSet("reg-tag", repo + ":1.0", null));
      create(layerSet("reg-digest", repo + "@" + images.digest("v1"), null));

      Eventually.within(
          CONVERGE,
          () -> {
            for (String name : List.of("reg-multi", "reg-tag", "reg-digest")) {
              assertThat(entry(name).phase).as(name).isEqualTo(LayerSetPhase.Ready);
            }
          });
      assertThat(status("reg-multi").resolvedImage).isEqualTo(repo + "@" + images.digest("multi"));
      assertThat(status("reg-tag").resolvedImage).isEqualTo(repo + "@" + images.digest("v1"));
      assertThat(status("reg-digest").resolvedImage).isEqualTo(repo + "@" + images.digest("v1"));
      // By tag and by digest: one root. From the index: the arm64 manifest, as the Node says.
      assertThat(entry("reg-tag").chainId).isEqualTo(entry("reg-digest").chainId);
      assertSameTree(entry("reg-tag").root, images.unpack("v1", tmp.resolve("unpacked-v1")));
      assertSameTree(entry("reg-multi").root, images.unpack("v2", tmp.resolve("unpacked-v2")));
      // All Ready: the roots hold the layers, and the fetched blobs go.
      Eventually.within(
          CONVERGE, () -> assertThat(node.stateDir.resolve("blobs/sha256")).isEmptyDirectory());

      // The tag moves. Nothing changes on the node until the LayerSet itself does.
      String v1Chain = entry("reg-tag").chainId;
      images.push("v2", registry.host(), REPO, "1.0", null);
      TestResources.edit(
          client.resources(LayerSet.class).withName("reg-tag"),
          l -> {
            l.getMetadata().getAnnotations().put("touched", "to make the controller look again");
            return l;
          });
      Consistently.during(
          Duration.ofSeconds(3),
          () -> {
            assertThat(status("reg-tag").resolvedImage).isEqualTo(repo + "@" + images.digest("v1"));
            assertThat(entry("reg-tag").chainId).isEqualTo(v1Chain);
          });

      TestResources.edit(
          client.resources(LayerSet.class).withName("reg-tag"),
          l -> {
            l.getSpec().nodeSelector = new LabelSelectorBuilder().withMatchLabels(SUITE).build();
            return l;
          });
      Eventually.within(
          CONVERGE,
          () -> {
            assertThat(status("reg-tag").resolvedImage).isEqualTo(repo + "@" + images.digest("v2"));
            assertThat(entry("reg-tag").phase).isEqualTo(LayerSetPhase.Ready);
            assertThat(entry("reg-tag").chainId).isEqualTo(entry("reg-multi").chainId);
          });
    }
  }

  @Test
  void imagesWaitingForAFetchWorkerHaveTheLayersTheyShareExtractedOnce() throws Exception {
    // One fetch worker, held for four seconds by a LayerSet whose second layer is served late (it
    // reports Fetching once the first is in). Behind it
    // wait v2 and then v1, whose layers are the first two of v2's: v2 is built first and must
    // publish the root of those two for v1, so v1 must be declared while it waits.
    running.stop(agent);
    running.agent(NODE, config -> config.concurrentFetches(1));
    Path served = Files.createDirectories(tmp.resolve("served"));
    Path quickLayer =
        new TarBuilder().file("quick.txt", "quick").write(served.resolve("quick.tar"));
    Path slowLayer = new TarBuilder().file("slow.txt", "slow").write(served.resolve("slow.tar"));
    try (LocalRegistry registry = LocalRegistry.plain(tmp.resolve("registry"));
        FileServer files =
            new FileServer()
                .serve("/quick/", served, Duration.ZERO)
                .serve("/slow/", served, Duration.ofSeconds(4))) {
      images.push("v1", registry.host(), REPO, "1.0", null);
      images.push("v2", registry.host(), REPO, "2.0", null);
      String repo = registry.host() + "/" + REPO;
      LayerSet hold = layerSet("reg-hold", null, null);
      hold.getSpec().layers =
          List.of(
              plainLayer(files.url("/quick/", "quick.tar"), quickLayer),
              plainLayer(files.url("/slow/", "slow.tar"), slowLayer));
      create(hold);
      Eventually.within(
          CONVERGE, () -> assertThat(entry("reg-hold").phase).isEqualTo(LayerSetPhase.Fetching));
      create(layerSet("reg-v2", repo + ":2.0", null));
      Eventually.within(
          CONVERGE,
          () -> {
            LayerSetEntry v2 = entry("reg-v2");
            assertThat(v2.phase).isEqualTo(LayerSetPhase.Pending);
            assertThat(v2.reason).as("pinned, so queued for the worker").isNull();
          });
      create(layerSet("reg-v1", repo + ":1.0", null));

      Eventually.within(
          CONVERGE,
          () -> {
            for (String name : List.of("reg-hold", "reg-v2", "reg-v1")) {
              assertThat(entry(name).phase).as(name).isEqualTo(LayerSetPhase.Ready);
            }
          });
      Path v1 = Path.of(entry("reg-v1").root);
      Path v2 = Path.of(entry("reg-v2").root);
      assertThat(v2.resolve("etc/version")).hasContent("v2");
      assertThat(Files.getAttribute(v1.resolve("usr/bin/tool"), "unix:ino"))
          .as("one extraction of the layers v1 and v2 share: both roots link their files")
          .isEqualTo(Files.getAttribute(v2.resolve("usr/bin/tool"), "unix:ino"));
    }
  }

  @Test
  void everyFailedPullEndsInAClearReasonOnTheNode() throws Exception {
    try (TokenIssuer issuer = new TokenIssuer(tmp.resolve("issuer"), Duration.ofMinutes(5));
        LocalRegistry guarded = LocalRegistry.withTokenAuth(tmp.resolve("guarded"), issuer);
        LocalRegistry open = LocalRegistry.plain(tmp.resolve("open"))) {
      String login = LocalRegistry.USER + ":" + LocalRegistry.PASSWORD;
      images.push("v1", guarded.host(), REPO, "1.0", login);
      images.push("v2", open.host(), REPO, "2.0", null);
      // v1's layers, with a config that lists another diffID for the second.
      Digest notItsDiffId = images.diffIds("v2").getLast();
      images.withDiffIds("v1", "v1-lying", d -> List.of(d.get(0), notItsDiffId.toString()));
      images.push("v1-lying", open.host(), REPO, "lying", null);
      createPullSecret("reg-right", guarded.host(), LocalRegistry.PASSWORD);
      createPullSecret("reg-wrong", guarded.host(), "not-the-password");
      Digest v1 = images.digest("v1");
      // A layer only v2 has, corrupted in the registry's storage.
      Digest onlyInV2 = images.layers("v2").getLast();
      Path stored =
          tmp.resolve("open/storage/docker/registry/v2/blobs/sha256")
              .resolve(onlyInV2.hex().substring(0, 2))
              .resolve(onlyInV2.hex())
              .resolve("data");
      byte[] bytes = Files.readAllBytes(stored);
      bytes[bytes.length - 100] ^= 0x20;
      Files.write(stored, bytes);
      int closedPort;
      try (ServerSocket socket = new ServerSocket(0)) {
        closedPort = socket.getLocalPort();
      }

      create(layerSet("reg-login", guarded.host() + "/" + REPO + ":1.0", "reg-right"));
      create(layerSet("reg-no-login", guarded.host() + "/" + REPO + "@" + v1, null));
      create(layerSet("reg-wrong-login", guarded.host() + "/" + REPO + "@" + v1, "reg-wrong"));
      create(layerSet("reg-no-secret", guarded.host() + "/" + REPO + "@" + v1, "reg-absent"));
      create(layerSet("reg-no-tag", open.host() + "/" + REPO + ":nope", null));
      create(layerSet("reg-corrupt", open.host() + "/" + REPO + ":2.0", null));
      create(layerSet("reg-lying", open.host() + "/" + REPO + ":lying", null));
      create(layerSet("reg-down", "127.0.0.1:" + closedPort + "/" + REPO + "@" + v1, null));

      Eventually.within(
          CONVERGE,
          () -> {
            assertThat(entry("reg-login").phase).isEqualTo(LayerSetPhase.Ready);
            assertFailed("reg-no-login", "Unauthorized", "no pull secret");
            assertFailed("reg-wrong-login", "Unauthorized", "refused the pull secret");
            assertFailed("reg-no-secret", "InvalidPullSecret", "reg-absent does not exist");
            assertFailed("reg-no-tag", "NotFound", REPO + ":nope");
            assertFailed("reg-corrupt", "DigestMismatch", "expected " + onlyInV2);
            assertFailed("reg-lying", "DigestMismatch", "its image lists " + notItsDiffId);
            assertFailed("reg-down", "Unreachable", "127.0.0.1:" + closedPort);
          });
      assertThat(status("reg-no-tag").conditions)
          .anySatisfy(
              c -> {
                assertThat(c.getType()).isEqualTo(StrataApi.RESOLVED_CONDITION);
                assertThat(c.getStatus()).isEqualTo("False");
                assertThat(c.getReason()).isEqualTo("NotFound");
              });
      assertThat(status("reg-login").resolvedImage)
          .isEqualTo(guarded.host() + "/" + REPO + "@" + v1);
      assertThat(issuer.scopes()).contains("repository:" + REPO + ":pull");
      // Nothing half-fetched was kept as if it were the blob.
      assertThat(node.stateDir.resolve("blobs/sha256").resolve(onlyInV2.hex())).doesNotExist();
    }
  }

  private void assertFailed(String name, String reason, String inMessage) {
    LayerSetEntry entry = entry(name);
    assertThat(entry.phase).as(name + ": " + entry.message).isEqualTo(LayerSetPhase.Failed);
    assertThat(entry.reason).as(name + ": " + entry.message).isEqualTo(reason);
    assertThat(entry.message).as(name).contains(inMessage);
  }

  private void assertSameTree(String root, Path reference) throws Exception {
    TreeSnapshot expected = TreeSnapshot.of(reference);
    TreeSnapshot actual = TreeSnapshot.of(Path.of(root));
    assertThat(actual.entries()).containsExactlyEntriesOf(expected.entries());
    assertThat(actual.hardlinkGroups()).isEqualTo(expected.hardlinkGroups());
    assertThat(expected.entries()).containsKey("usr/bin/tool-link");
  }

  private static LayerSet.Layer plainLayer(String url, Path file) throws Exception {
    LayerSet.Layer layer = new LayerSet.Layer(url, Digest.ofFile(file).toString());
    layer.mediaType = "application/vnd.oci.image.layer.v1.tar";
    return layer;
  }

  private LayerSetEntry entry(String name) {
    return NodeStates.layerSet(client, NODE, name)
        .orElseThrow(() -> new AssertionError(NODE + " does not list " + name));
  }

  private LayerSet.Status status(String name) {
    LayerSet.Status status = client.resources(LayerSet.class).withName(name).get().getStatus();
    assertThat(status).as(name + " status").isNotNull();
    return status;
  }

  private void create(LayerSet layerSet) {
    client.resource(layerSet).create();
  }

  private static LayerSet layerSet(String name, String image, String pullSecret) {
    LayerSet layerSet = new LayerSet();
    layerSet.getMetadata().setName(name);
    layerSet.getMetadata().setLabels(SUITE);
    layerSet.getMetadata().setAnnotations(new java.util.HashMap<>(Map.of("purpose", "test")));
    LayerSet.Spec spec = new LayerSet.Spec();
    spec.image = image;
    spec.pullSecretRef = pullSecret == null ? null : new NameReference(pullSecret);
    layerSet.setSpec(spec);
    return layerSet;
  }

  private void createPullSecret(String name, String host, String password) {
    String auth =
        Base64.getEncoder()
            .encodeToString((LocalRegistry.USER + ":" + password).getBytes(StandardCharsets.UTF_8));
    String json = "{\"auths\":{\"" + host + "\":{\"auth\":\"" + auth + "\"}}}";
    client
        .secrets()
        .inNamespace(StrataApi.DEFAULT_NAMESPACE)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(SUITE)
                .endMetadata()
                .withType("kubernetes.io/dockerconfigjson")
                .addToData(
                    ".dockerconfigjson",
                    Base64.getEncoder().encodeToString(json.getBytes(StandardCharsets.UTF_8)))
                .build())
        .create();
  }
}
