package io.strata.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.crd.DeletionPolicy;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import io.strata.crd.NodeLayerState.MountPhase;
import io.strata.crd.NodeLayerState.OverlayMountEntry;
import io.strata.crd.OverlayMount;
import io.strata.kube.Apply;
import io.strata.oci.Digest;
import io.strata.testing.ControlPlane;
import io.strata.testing.Eventually;
import io.strata.testing.LuaValues;
import io.strata.testing.ProjectFiles;
import io.strata.testing.SimulatedNodes;
import io.strata.testing.TestResources;
import io.strata.testing.Tools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * What GitOps tools make of LayerSets and OverlayMounts in each state, on the real API server with
 * the real controller: kstatus (sigs.k8s.io/cli-utils, as Flux and kpt read status, built by
 * hack/build-control-plane.sh), Argo CD's health script (docs/health/strata.lua, run by lua5.1, the
 * dialect Argo CD embeds), and {@code kubectl wait --for=condition=Ready}. A node is simulated: the
 * test writes its NodeLayerState, so each object sits in the state the test put it in.
 */
class GitOpsHealthIT {
  private static final Duration CONVERGE = Duration.ofSeconds(30);
  private static final String NODE = "it-health-node";
  private static final Map<String, String> SUITE = Map.of("strata-test", "gitops-health");
  private static final Digest DIGEST = Digest.parse("sha256:" + "e".repeat(64));

  @RegisterExtension final SimulatedNodes running = SimulatedNodes.suite(SUITE);
  @TempDir Path tmp;
  private KubernetesClient client;

  @BeforeEach
  void start() throws Exception {
    client = running.client();
    running.nodeWithoutAgent(NODE, Map.of("pool", "health"));
    running.controller("it-health-controller");
  }

  @Test
  void kstatusArgoCdAndKubectlWaitSeeEachStateAsItIs() throws Exception {
    LayerSet unobserved = client.resource(layerSet("it-h-unobserved", "nowhere")).create();
    for (String name :
        List.of("it-h-ready", "it-h-fetching", "it-h-retrying", "it-h-refused", "it-h-mixed")) {
      client.resource(layerSet(name, "health")).create();
    }
    client.resource(mount("it-h-mounted", "it-h-ready")).create();
    client.resource(mount("it-h-unsafe", "it-h-ready")).create();

    // What the node says about each: the controller folds it into the objects' status.
    NodeLayerState.Status status = new NodeLayerState.Status();
    status.layerSets.add(layerSetEntry("it-h-ready", LayerSetPhase.Ready, null));
    status.layerSets.add(fetching(100, 300));
    status.layerSets.add(layerSetEntry("it-h-retrying", LayerSetPhase.Failed, "Unreachable"));
    status.layerSets.add(layerSetEntry("it-h-refused", LayerSetPhase.Failed, "PathEscape"));
    status.layerSets.add(layerSetEntry("it-h-mixed", LayerSetPhase.Failed, "DigestMismatch"));
    status.overlayMounts.add(mountEntry("it-h-mounted", MountPhase.Mounted, null));
    status.overlayMounts.add(mountEntry("it-h-unsafe", MountPhase.Failed, "UnsafeTarget"));
    writeNodeState(NODE, status);
    // A second node where it-h-mixed is Ready: partly failed for good is Degraded, not Stalled.
    running.nodeWithoutAgent("it-health-other", Map.of("pool", "health"));
    NodeLayerState.Status other = new NodeLayerState.Status();
    for (String name : List.of("it-h-ready", "it-h-mixed")) {
      other.layerSets.add(layerSetEntry(name, LayerSetPhase.Ready, null));
    }
    other.layerSets.add(fetching(50, 300));
    other.layerSets.add(layerSetEntry("it-h-retrying", LayerSetPhase.Failed, "Unreachable"));
    other.layerSets.add(layerSetEntry("it-h-refused", LayerSetPhase.Failed, "PathEscape"));
    other.overlayMounts.add(mountEntry("it-h-mounted", MountPhase.Mounted, null));
    other.overlayMounts.add(mountEntry("it-h-unsafe", MountPhase.Failed, "UnsafeTarget"));
    writeNodeState("it-health-other", other);

    Eventually.within(
        CONVERGE,
        () -> {
          assertThat(stored(LayerSet.class, "it-h-ready").getStatus().readyNodes).isEqualTo(2);
          assertThat(stored(LayerSet.class, "it-h-mixed").getStatus().failedNodes).hasSize(1);
          assertThat(stored(LayerSet.class, "it-h-mixed").getStatus().readyNodes).isEqualTo(1);
          assertThat(stored(LayerSet.class, "it-h-refused").getStatus().failedNodes).hasSize(2);
          assertThat(stored(OverlayMount.class, "it-h-mounted").getStatus().readyNodes)
              .isEqualTo(2);
          assertThat(stored(OverlayMount.class, "it-h-unsafe").getStatus().failedNodes).hasSize(2);
        });

    Map<String, HasMetadata> objects = new LinkedHashMap<>();
    objects.put("it-h-unobserved", unobserved); // as created: no status yet
    for (String name :
        List.of("it-h-ready", "it-h-fetching", "it-h-retrying", "it-h-refused", "it-h-mixed")) {
      objects.put(name, stored(LayerSet.class, name));
    }
    objects.put("it-h-mounted", stored(OverlayMount.class, "it-h-mounted"));
    objects.put("it-h-unsafe", stored(OverlayMount.class, "it-h-unsafe"));

    Map<String, String> messages = new LinkedHashMap<>();
    assertThat(kstatus(objects.values(), messages))
        .as("kstatus, with its messages %s", messages)
        .containsExactly(
            // kstatus's own rule: an object with no status at all reads as Current. The
            // controller writes one within moments of a create (docs/gitops.md).
            Map.entry("it-h-unobserved", "Current"),
            Map.entry("it-h-ready", "Current"),
            Map.entry("it-h-fetching", "InProgress"),
            Map.entry("it-h-retrying", "InProgress"),
            Map.entry("it-h-refused", "Failed"),
            // Neither Reconciling nor Stalled; kstatus reads Ready=False as still in progress.
            Map.entry("it-h-mixed", "InProgress"),
            Map.entry("it-h-mounted", "Current"),
            Map.entry("it-h-unsafe", "Failed"));

    Map<String, String> argo = new LinkedHashMap<>();
    for (HasMetadata object : objects.values()) {
      argo.put(object.getMetadata().getName(), argoHealth(object));
    }
    assertThat(argo)
        .containsExactly(
            Map.entry("it-h-unobserved", "Progressing"),
            Map.entry("it-h-ready", "Healthy"),
            Map.entry("it-h-fetching", "Progressing"),
            Map.entry("it-h-retrying", "Progressing"),
            Map.entry("it-h-refused", "Degraded"),
            Map.entry("it-h-mixed", "Degraded"),
            Map.entry("it-h-mounted", "Healthy"),
            Map.entry("it-h-unsafe", "Degraded"));

    assertThat(kubectlWait("lset/it-h-ready", "30s"))
        .as("kubectl wait on a Ready LayerSet")
        .isZero();
    assertThat(kubectlWait("om/it-h-mounted", "30s")).isZero();
    assertThat(kubectlWait("lset/it-h-fetching", "2s")).as("still fetching: times out").isNotZero();
  }

  private static LayerSet layerSet(String name, String pool) {
    LayerSet layerSet =
        TestResources.layerSet(name, SUITE, "http://127.0.0.1:1/" + name + ".tar", DIGEST);
    layerSet.getSpec().nodeSelector =
        new LabelSelectorBuilder().addToMatchLabels("pool", pool).build();
    layerSet.getSpec().deletionPolicy = DeletionPolicy.Orphan; // no agent tears it down
    return layerSet;
  }

  private static OverlayMount mount(String name, String layerSet) {
    OverlayMount mount = TestResources.overlayMount(name, SUITE, layerSet);
    mount.getSpec().deletionPolicy = DeletionPolicy.Orphan;
    return mount;
  }

  private static LayerSetEntry layerSetEntry(String name, LayerSetPhase phase, String reason) {
    LayerSetEntry entry = new LayerSetEntry();
    entry.name = name;
    entry.phase = phase;
    entry.reason = reason;
    entry.message = reason == null ? null : reason + " on this node";
    entry.observedGeneration = 1L;
    if (phase == LayerSetPhase.Ready) {
      entry.chainId = DIGEST.toString();
    }
    return entry;
  }

  private static LayerSetEntry fetching(long fetchedMib, long totalMib) {
    LayerSetEntry entry = layerSetEntry("it-h-fetching", LayerSetPhase.Fetching, null);
    entry.fetchedBytes = fetchedMib << 20;
    entry.totalBytes = totalMib << 20;
    return entry;
  }

  /** The controller's Events on LayerSet {@code name}, as {@code Type/Reason}. */
  private List<String> controllerEvents(String name) {
    String uid = stored(LayerSet.class, name).getMetadata().getUid();
    return client.v1().events().inNamespace("default").list().getItems().stream()
        .filter(e -> uid.equals(e.getInvolvedObject().getUid()))
        .filter(e -> "strata-controller".equals(e.getReportingComponent()))
        .map(e -> e.getType() + "/" + e.getReason())
        .toList();
  }

  private String kubectl(String... args) throws Exception {
    Path kubeconfig = ControlPlane.shared().writeKubeconfig(tmp.resolve("kubeconfig"));
    List<String> command = new ArrayList<>(List.of(ControlPlane.kubectl().toString()));
    command.add("--kubeconfig=" + kubeconfig);
    command.addAll(List.of(args));
    return Tools.run(tmp, command.toArray(String[]::new));
  }

  private static OverlayMountEntry mountEntry(String name, MountPhase phase, String reason) {
    OverlayMountEntry entry = new OverlayMountEntry();
    entry.name = name;
    entry.phase = phase;
    entry.reason = reason;
    entry.message = reason == null ? null : reason + " on this node";
    entry.observedGeneration = 1L;
    return entry;
  }

  /** What node {@code node}'s agent would write. */
  private void writeNodeState(String node, NodeLayerState.Status status) {
    NodeLayerState state = new NodeLayerState();
    state.getMetadata().setName(node);
    client.resource(state).fieldManager("test").forceConflicts().serverSideApply();
    state.setStatus(status);
    Apply.status(client, "test", state);
  }

  private <T extends HasMetadata> T stored(Class<T> type, String name) {
    return client.resources(type).withName(name).get();
  }

  /** Each object's kstatus status, by name, from kstatus-check. */
  private Map<String, String> kstatus(Iterable<HasMetadata> objects, Map<String, String> messages)
      throws Exception {
    Path kstatus = ControlPlane.binaryDir().getParent().getParent().resolve("bin/kstatus-check");
    Tools.require(
        Files.isExecutable(kstatus),
        "kstatus-check at " + kstatus + " (hack/build-control-plane.sh)");
    List<JsonNode> list = new ArrayList<>();
    objects.forEach(o -> list.add(Serialization.jsonMapper().valueToTree(o)));
    Path input = tmp.resolve("objects.json");
    Files.writeString(input, Serialization.jsonMapper().writeValueAsString(list));
    Process process =
        new ProcessBuilder(kstatus.toString())
            .redirectInput(input.toFile())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as("kstatus-check exit").isZero();
    Map<String, String> statuses = new LinkedHashMap<>();
    for (JsonNode result : (ArrayNode) Serialization.jsonMapper().readTree(out)) {
      statuses.put(result.get("name").asText(), result.get("status").asText());
      messages.put(result.get("name").asText(), result.get("message").asText());
    }
    return statuses;
  }

  /** The health Argo CD's Lua gives {@code object}, from docs/health/strata.lua. */
  private String argoHealth(HasMetadata object) throws Exception {
    Tools.requireCommand("lua5.1");
    Path script = ProjectFiles.root().resolve("docs/health/strata.lua");
    Path run = tmp.resolve("run.lua");
    Files.writeString(
        run,
        "obj = "
            + LuaValues.of(Serialization.jsonMapper().valueToTree(object))
            + "\nlocal hs = dofile("
            + LuaValues.string(script.toString())
            + ")\nio.write(hs.status)\n");
    String status = Tools.run(tmp, "lua5.1", run.toString()).strip();
    assertThat(status).as("Argo CD health of " + object.getMetadata().getName()).isNotBlank();
    return status;
  }

  private int kubectlWait(String object, String timeout) throws Exception {
    Path kubeconfig = ControlPlane.shared().writeKubeconfig(tmp.resolve("kubeconfig"));
    Process process =
        new ProcessBuilder(
                ControlPlane.kubectl().toString(),
                "--kubeconfig",
                kubeconfig.toString(),
                "wait",
                "--for=condition=Ready",
                object,
                "--timeout=" + timeout)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return process.exitValue();
  }
}
