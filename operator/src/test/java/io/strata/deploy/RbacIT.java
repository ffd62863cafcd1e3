package io.strata.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.agent.Agent;
import io.strata.agent.AgentConfig;
import io.strata.controller.Controller;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import io.strata.crd.NodeLayerState.MountPhase;
import io.strata.crd.OverlayMount;
import io.strata.crd.StrataApi;
import io.strata.kube.Apply;
import io.strata.kube.CustomResources;
import io.strata.overlay.MountTable;
import io.strata.testing.Consistently;
import io.strata.testing.ControlPlane;
import io.strata.testing.Eventually;
import io.strata.testing.NodeStates;
import io.strata.testing.ProjectFiles;
import io.strata.testing.RootMounts;
import io.strata.testing.TestResources;
import io.strata.testing.Tools;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RBAC proven, not assumed: the chart's ServiceAccounts, Roles and admission policy applied to a
 * real API server; the agent and the controller run with those accounts' own tokens, do their whole
 * job, and are refused anything beyond it. The agent's token is bound to a Pod on its Node, as the
 * kubelet would give it, the way Kubernetes' own e2e tests make one without a kubelet.
 */
class RbacIT {
  private static final Duration CONVERGE = Duration.ofSeconds(60);
  private static final String NS = StrataApi.DEFAULT_NAMESPACE;
  private static final String NODE_A = "it-rbac-a";
  private static final String NODE_B = "it-rbac-b";
  private static final Map<String, String> SUITE = Map.of("strata-test", "rbac");
  private static final Set<String> ACCESS_KINDS =
      Set.of(
          "ServiceAccount",
          "ClusterRole",
          "ClusterRoleBinding",
          "Role",
          "RoleBinding",
          "ValidatingAdmissionPolicy",
          "ValidatingAdmissionPolicyBinding");

  @TempDir Path tmp;
  private final List<AutoCloseable> running = new ArrayList<>();
  private KubernetesClient admin;
  private List<HasMetadata> access;

  @BeforeEach
  void applyTheChartsAccessRules() throws Exception {
    Tools.requireRoot("the agent materializes layers as root");
    admin = ControlPlane.shared().adminClient();
    String rendered =
        Tools.run(
            ProjectFiles.root(),
            ControlPlane.helm().toString(),
            "template",
            "strata",
            "charts/strata",
            "--namespace",
            NS,
            "--set",
            "agent.pullSecretNames={regcred}",
            "--kube-version",
            ControlPlane.KUBE_VERSION,
            "--api-versions",
            "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy");
    access =
        admin
            .load(new ByteArrayInputStream(rendered.getBytes(StandardCharsets.UTF_8)))
            .items()
            .stream()
            .filter(o -> ACCESS_KINDS.contains(o.getKind()))
            .toList();
    assertThat(access).extracting(HasMetadata::getKind).contains("ValidatingAdmissionPolicy");
    for (HasMetadata object : access) {
      admin.resource(object).forceConflicts().serverSideApply();
    }
    for (String node : List.of(NODE_A, NODE_B)) {
      admin
          .nodes()
          .resource(
              new NodeBuilder()
                  .withNewMetadata()
                  .withName(node)
                  .addToLabels(SUITE)
                  .endMetadata()
                  .build())
          .create();
    }
    for (String name : List.of("regcred", "other")) {
      admin
          .secrets()
          .inNamespace(NS)
          .resource(
              new SecretBuilder()
                  .withNewMetadata()
                  .withName(name)
                  .withLabels(SUITE)
                  .endMetadata()
                  .withType("kubernetes.io/dockerconfigjson")
                  .addToStringData(".dockerconfigjson", "{\"auths\":{}}")
                  .build())
          .create();
    }
  }

  @AfterEach
  void cleanUp() throws Exception {
    if (admin == null) {
      return;
    }
    try {
      TestResources.deleteSuite(admin, SUITE);
      Eventually.within(
          CONVERGE,
          () ->
              assertThat(admin.resources(LayerSet.class).withLabels(SUITE).list().getItems())
                  .isEmpty());
    } finally {
      for (AutoCloseable c : running.reversed()) {
        c.close();
      }
      // What a failed test left on the teardown finalizer (its agent never came back, say) goes
      // too: the test has failed already, and the next suite must not find it.
      dropFinalizers(LayerSet.class);
      dropFinalizers(OverlayMount.class);
    }
    admin.pods().inNamespace(NS).withLabels(SUITE).withGracePeriod(0).delete();
    admin.secrets().inNamespace(NS).withLabels(SUITE).delete();
    admin.nodes().withLabels(SUITE).delete();
    admin.resources(NodeLayerState.class).withName(NODE_A).delete();
    admin.resources(NodeLayerState.class).withName(NODE_B).delete();
    for (HasMetadata object : access) {
      if (object.getKind().startsWith("ValidatingAdmissionPolicy")) {
        admin.resource(object).delete(); // it concerns only the chart's agent account, but still
      }
    }
    admin.close();
  }

  private <T extends HasMetadata> void dropFinalizers(Class<T> type) {
    for (T object : admin.resources(type).withLabels(SUITE).list().getItems()) {
      TestResources.edit(
          admin.resources(type).withName(object.getMetadata().getName()),
          o -> {
            o.getMetadata().setFinalizers(List.of());
            return o;
          });
    }
  }

  @Test
  void agentAndControllerDoTheirWholeJobWithTheChartsRightsAndNoMore() throws Exception {
    KubernetesClient agent = clientWithToken(podBoundToken("strata-agent", NODE_A));
    KubernetesClient controller = clientWithToken(token("strata-controller"));

    Agent process =
        new Agent(
            agent,
            AgentConfig.builder(NODE_A, tmp.resolve("state"), tmp.resolve("mnt"))
                .namespace(NS)
                .fileUrlDirs(TestResources.fileUrlDirs(Path.of("/nonexistent/strata-rbac")))
                .build(),
            Clock.systemUTC());
    process.start();
    running.add(agent);
    running.add(process);
    Controller leader =
        new Controller(controller, NS, "it-rbac-controller", 0, Duration.ofMinutes(5), () -> {});
    leader.start();
    running.add(controller);
    running.add(leader);

    admin.resource(exampleLayerSet("rbac-example")).create();
    LayerSet broken = exampleLayerSet("rbac-broken");
    // A layer this node does not hold (a chain it holds is Ready without fetching), at no URL.
    broken.getSpec().layers.getFirst().url = "file:///nonexistent/strata-rbac/base.tar.gz";
    broken.getSpec().layers.getFirst().digest = "sha256:" + "0".repeat(64);
    admin.resource(broken).create();
    Eventually.within(
        CONVERGE,
        () -> {
          NodeLayerState state = admin.resources(NodeLayerState.class).withName(NODE_A).get();
          assertThat(state).isNotNull();
          assertThat(state.getStatus().layerSets)
              .anySatisfy(
                  e -> {
                    assertThat(e.name).isEqualTo("rbac-example");
                    assertThat(e.phase).as(e.message).isEqualTo(LayerSetPhase.Ready);
                  })
              .anySatisfy(
                  e -> {
                    assertThat(e.name).isEqualTo("rbac-broken");
                    assertThat(e.phase).isEqualTo(LayerSetPhase.Failed);
                  });
          // The failure's Warning Event, recorded with the agent's own rights.
          assertThat(admin.v1().events().inNamespace("default").list().getItems())
              .anySatisfy(
                  ev -> {
                    assertThat(ev.getInvolvedObject().getName()).isEqualTo("rbac-broken");
                    assertThat(ev.getReportingInstance()).isEqualTo(NODE_A);
                  });
          LayerSet layerSet = admin.resources(LayerSet.class).withName("rbac-example").get();
          assertThat(layerSet.getMetadata().getFinalizers())
              .containsExactly(StrataApi.TEARDOWN_FINALIZER);
          assertThat(layerSet.getStatus().readyNodes).isEqualTo(1);
          assertThat(admin.nodes().withName(NODE_A).get().getMetadata().getLabels())
              .containsEntry(StrataApi.LAYERSET_LABEL_PREFIX + "rbac-example", "ready");
          assertThat(admin.leases().inNamespace(NS).withName("strata-agent-" + NODE_A).get())
              .isNotNull();
        });
    // The pull secrets it was given, by name, and nothing else.
    assertThat(agent.secrets().inNamespace(NS).withName("regcred").get()).isNotNull();
    // Namespaces' labels: whether a pod volume's namespace may mount a LayerSet; not to change.
    assertThat(agent.namespaces().withName("default").get().getMetadata().getLabels())
        .containsKey("kubernetes.io/metadata.name");
    assertRefused(
        () ->
            agent
                .namespaces()
                .withName("default")
                .edit(
                    ns -> {
                      ns.getMetadata().getLabels().put("strata.io/tools", "allowed");
                      return ns;
                    }));

    // Everything beyond the agent's job is refused.
    assertRefused(() -> agent.secrets().inNamespace(NS).withName("other").get());
    assertRefused(() -> agent.secrets().inNamespace(NS).list());
    assertRefused(() -> agent.secrets().inNamespace("default").withName("regcred").get());
    assertRefused(() -> agent.resources(NodeLayerState.class).withName(NODE_A).delete());
    assertRefused(
        () ->
            agent
                .resources(LayerSet.class)
                .resource(admin.resources(LayerSet.class).withName("rbac-example").get())
                .updateStatus());
    assertRefused(() -> agent.nodes().withName(NODE_B).edit(n -> label(n)));
    assertRefused(
        () -> agent.leases().inNamespace("default").resource(lease("sneaky", "default")).create());
    // The admission policy: node A's agent cannot write node B's NodeLayerState ...
    assertRefused(
        () -> Apply.object(agent, "strata-agent", nodeState(NODE_B)),
        "may write only NodeLayerState " + NODE_A);
    // ... nor another node's Lease, nor the controller's leader Lease ...
    assertRefused(
        () -> Apply.object(agent, "strata-agent", lease("strata-agent-" + NODE_B, NS)),
        "may write only Lease strata-agent-" + NODE_A);
    assertRefused(
        () -> Apply.object(agent, "strata-agent", lease("strata-controller", NS)),
        "may write only Lease strata-agent-" + NODE_A);
    // ... and an agent token not bound to a pod on a node is refused outright.
    try (KubernetesClient unbound = clientWithToken(token("strata-agent"))) {
      assertRefused(
          () -> Apply.object(unbound, "strata-agent", nodeState(NODE_A)), "names no node");
      assertRefused(
          () -> Apply.object(unbound, "strata-agent", lease("strata-agent-" + NODE_A, NS)),
          "names no node");
    }

    // Everything beyond the controller's job is refused.
    assertRefused(() -> controller.resource(nodeState(NODE_B)).create());
    assertRefused(() -> controller.secrets().inNamespace(NS).list());
    assertRefused(() -> controller.secrets().inNamespace(NS).withName("other").get());
    assertRefused(() -> controller.nodes().withName(NODE_B).delete());
    // The admission policy: the controller's right to patch Nodes covers its own labels only.
    assertRefused(
        () -> controller.nodes().withName(NODE_B).edit(n -> label(n)),
        "only layerset.strata.io/ and overlaymount.strata.io/ labels");
    assertRefused(
        () ->
            controller
                .nodes()
                .withName(NODE_B)
                .edit(
                    n -> {
                      n.getSpec().setUnschedulable(true);
                      return n;
                    }),
        "nothing of a Node but its own labels");
    assertRefused(
        () ->
            controller
                .nodes()
                .withName(NODE_B)
                .edit(
                    n -> {
                      n.getMetadata().getAnnotations().put("stolen", "yes");
                      return n;
                    }),
        "nothing of a Node but its own labels");
    controller
        .nodes()
        .withName(NODE_B)
        .edit(
            n -> {
              n.getMetadata().getLabels().put(StrataApi.LAYERSET_LABEL_PREFIX + "allowed", "ready");
              return n;
            });
    assertRefused(() -> controller.resources(NodeLayerState.class).withName(NODE_A).delete());

    // Deletion completes with these rights: the agent drops its entry, the controller the
    // finalizer and the node label.
    admin.resources(LayerSet.class).withName("rbac-example").delete();
    Eventually.within(
        CONVERGE,
        () -> {
          assertThat(admin.resources(LayerSet.class).withName("rbac-example").get()).isNull();
          assertThat(admin.nodes().withName(NODE_A).get().getMetadata().getLabels())
              .doesNotContainKey(StrataApi.LAYERSET_LABEL_PREFIX + "rbac-example");
        });
  }

  @Test
  void anAgentWhoseRightsAreRevokedTouchesNothingAndAdoptsItsMountOnceTheyAreBack()
      throws Exception {
    RootMounts node = RootMounts.prepare(tmp);
    running.add(node::cleanUp); // closed last, once the agents are
    AgentConfig config =
        AgentConfig.builder(NODE_A, node.stateDir, node.mountBase)
            .namespace(NS)
            .fileUrlDirs(TestResources.fileUrlDirs())
            .resyncPeriod(Duration.ofSeconds(2))
            .build();
    admin.resource(exampleLayerSet("rbac-revoked")).create();
    admin.resource(TestResources.overlayMount("rbac-revoked", SUITE, "rbac-revoked")).create();
    Path target = node.mountBase.resolve("rbac-revoked");
    KubernetesClient agent = clientWithToken(podBoundToken("strata-agent", NODE_A));
    running.add(agent);
    Agent first = new Agent(agent, config, Clock.systemUTC());
    first.start();
    Eventually.within(CONVERGE, () -> assertThat(MountTable.read().at(target)).isPresent());
    int mountId = MountTable.read().at(target).orElseThrow().mountId();
    Path upper = node.stateDir.resolve("uppers");
    List<Path> uppers;
    try (var listed = java.nio.file.Files.list(upper)) {
      uppers = listed.toList();
    }

    List<HasMetadata> agentBindings =
        access.stream()
            .filter(o -> o.getKind().endsWith("Binding") && !o.getKind().startsWith("Validating"))
            .filter(o -> Serialization.asJson(o).contains("\"strata-agent\""))
            .toList();
    assertThat(agentBindings).isNotEmpty();
    for (HasMetadata binding : agentBindings) {
      admin.resource(binding).delete();
    }
    Eventually.within(CONVERGE, () -> assertRefused(() -> agent.nodes().withName(NODE_A).get()));
    assertThat(CustomResources.whyWaiting(agent, "layersets.strata.io"))
        .as("what a restarted agent logs while it waits")
        .isEqualTo("this account may not read it (HTTP 403): check its RBAC");
    // Running on: passes every 2 s from its caches, its writes refused, the mount kept. Then
    // restarted, as its pod would be: it cannot read even its CRDs, and waits.
    Consistently.during(
        Duration.ofSeconds(10),
        () -> assertThat(MountTable.read().at(target).orElseThrow().mountId()).isEqualTo(mountId));
    first.close();
    Agent back = new Agent(agent, config, Clock.systemUTC());
    running.add(back);
    java.util.concurrent.CompletableFuture<Void> starting =
        java.util.concurrent.CompletableFuture.runAsync(
            () -> {
              try {
                back.start();
              } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
              }
            });
    Consistently.during(
        Duration.ofSeconds(10),
        () -> {
          assertThat(starting).as("waiting for its rights").isNotDone();
          assertThat(MountTable.read().at(target).orElseThrow().mountId())
              .as("still mounted, never mounted again")
              .isEqualTo(mountId);
        });
    try (var listed = java.nio.file.Files.list(upper)) {
      assertThat(listed.toList()).as("uppers kept").isEqualTo(uppers);
    }

    for (HasMetadata binding : agentBindings) {
      admin.resource(binding).forceConflicts().serverSideApply();
    }
    try {
      starting.get(CONVERGE.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException refusedWhileRightsReturned) {
      // Its informers may still have been refused while the bindings came back: it stops, as
      // it must rather than run on empty caches, and its pod is restarted.
      back.close();
      Eventually.within(
          CONVERGE,
          () -> assertThat(agent.resources(NodeLayerState.class).list().getItems()).isNotNull());
      Agent restarted = new Agent(agent, config, Clock.systemUTC());
      running.add(restarted);
      restarted.start();
    }
    admin.resource(TestResources.overlayMount("rbac-after", SUITE, "rbac-revoked")).create();
    Eventually.within(
        CONVERGE,
        () ->
            assertThat(NodeStates.overlayMount(admin, NODE_A, "rbac-after").map(e -> e.phase))
                .as("the agent works again")
                .contains(MountPhase.Mounted));
    assertThat(MountTable.read().at(target).orElseThrow().mountId())
        .as("adopted")
        .isEqualTo(mountId);
  }

  private static void assertRefused(Runnable call, String... inMessage) {
    Throwable thrown = catchThrowable(call::run);
    assertThat(thrown).isInstanceOf(KubernetesClientException.class);
    assertThat(((KubernetesClientException) thrown).getCode())
        .as(thrown.getMessage())
        .isEqualTo(403);
    for (String text : inMessage) {
      assertThat(thrown.getMessage()).contains(text);
    }
  }

  /** A token for {@code account}, bound to a Pod on {@code node} as the kubelet's would be. */
  private String podBoundToken(String account, String node) {
    Pod pod =
        admin
            .pods()
            .inNamespace(NS)
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName(account + "-" + node)
                    .withLabels(SUITE)
                    .endMetadata()
                    .withNewSpec()
                    .withNodeName(node)
                    .withServiceAccountName(account)
                    .addNewContainer()
                    .withName("agent")
                    .withImage("strata")
                    .endContainer()
                    .endSpec()
                    .build())
            .create();
    TokenRequest request =
        new TokenRequestBuilder()
            .withNewSpec()
            .withExpirationSeconds(3600L)
            .withNewBoundObjectRef()
            .withApiVersion("v1")
            .withKind("Pod")
            .withName(pod.getMetadata().getName())
            .withUid(pod.getMetadata().getUid())
            .endBoundObjectRef()
            .endSpec()
            .build();
    return admin
        .serviceAccounts()
        .inNamespace(NS)
        .withName(account)
        .tokenRequest(request)
        .getStatus()
        .getToken();
  }

  private String token(String account) {
    return admin
        .serviceAccounts()
        .inNamespace(NS)
        .withName(account)
        .tokenRequest(
            new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L).endSpec().build())
        .getStatus()
        .getToken();
  }

  private KubernetesClient clientWithToken(String token) {
    Config adminConfig = Config.fromKubeconfig(ControlPlane.shared().kubeconfigYaml());
    Config config =
        new ConfigBuilder(adminConfig)
            .withClientCertData(null)
            .withClientKeyData(null)
            .withClientCertFile(null)
            .withClientKeyFile(null)
            .withOauthToken(token)
            .build();
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  private static LayerSet exampleLayerSet(String name) throws Exception {
    LayerSet layerSet =
        io.fabric8.kubernetes.client.utils.Serialization.unmarshal(
            java.nio.file.Files.readString(ProjectFiles.examples().resolve("layerset.yaml")),
            LayerSet.class);
    layerSet.getMetadata().setName(name);
    layerSet.getMetadata().setLabels(SUITE);
    for (LayerSet.Layer layer : layerSet.getSpec().layers) {
      String file = layer.url.substring(layer.url.lastIndexOf('/') + 1);
      layer.url = ProjectFiles.examples().resolve("layers").resolve(file).toUri().toString();
    }
    return layerSet;
  }

  private static NodeLayerState nodeState(String node) {
    NodeLayerState state = new NodeLayerState();
    state.getMetadata().setName(node);
    return state;
  }

  private static io.fabric8.kubernetes.api.model.Node label(
      io.fabric8.kubernetes.api.model.Node n) {
    n.getMetadata().getLabels().put("stolen", "yes");
    return n;
  }

  private static io.fabric8.kubernetes.api.model.coordination.v1.Lease lease(
      String name, String namespace) {
    return new io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(namespace)
        .endMetadata()
        .withNewSpec()
        .withHolderIdentity("someone")
        .endSpec()
        .build();
  }
}
