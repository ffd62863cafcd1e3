package io.strata.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.HostPathVolumeSource;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.readiness.Readiness;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.Version;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.MountPhase;
import io.strata.crd.NodeLayerState.OverlayMountEntry;
import io.strata.crd.OverlayMount;
import io.strata.crd.StrataApi;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What a user does with Strata on a cluster with a real kubelet, as one scenario shared by every
 * such cluster (this machine's node, K3s): install the chart with Helm, apply {@code examples/},
 * run the pod docs/install.md shows, and live through an agent restart, a {@code helm upgrade}, a
 * controller hand-over, deleting the OverlayMount under running pods, and the documented uninstall.
 *
 * <p>The cluster needs only the images: Strata's (Jib's tar) and {@code strata-busybox:1} ({@code
 * hack/build-node-images.sh}), which serves the example layers on the node's loopback, where {@code
 * examples/layerset.yaml} points, and runs the pods that read the mount.
 */
public final class NodeScenario {
  /** The values this node needs besides the image and the mount base (docs/install.md). */
  public static final int AGENT_PORT = 18091;

  public static final int CONTROLLER_PORT = 18092;
  private static final String NAMESPACE = StrataApi.DEFAULT_NAMESPACE;
  private static final String EXAMPLE = "example";
  private static final String APP_FILE = "usr/share/greeting/app.txt";
  private static final String APP_TEXT = "hello from the app layer\n";
  private static final String BUSYBOX = "strata-busybox:1";
  private static final String VOLUMES = "volumes-allowed";
  private static final String DENIED = "volumes-denied";
  private static final String ON_DEMAND = "example-on-demand";
  private static final Duration TIMEOUT = Duration.ofMinutes(3);

  private final StrataCluster cluster;
  private final KubernetesClient client;

  public NodeScenario(StrataCluster cluster) {
    this.cluster = cluster;
    this.client = cluster.client();
  }

  /** The Helm values of a node whose pods use the host's network and reach the API on loopback. */
  public static List<String> hostNetworkValues(int apiServerPort) {
    return List.of(
        "agent.hostNetwork=true",
        "controller.hostNetwork=true",
        "apiServer.host=127.0.0.1",
        "apiServer.port=" + apiServerPort,
        "agent.httpPort=" + AGENT_PORT,
        "controller.httpPort=" + CONTROLLER_PORT,
        "controller.replicas=1",
        // The example layers are served on the node's loopback.
        "fetch.allowLoopback=true");
  }

  public void run() throws Exception {
    Path image = ProjectFiles.root().resolve("operator/target/strata-image.tar");
    Tools.require(Files.isRegularFile(image), "the image " + image + " (./mvnw package -Pimage)");
    cluster.importImages(image, nodeImage("strata-busybox"));

    install();
    serveExampleLayers();
    Pod early = createPod(earlyReader());

    kubectl("apply", "--server-side", "-f", ProjectFiles.examples().toString());
    OverlayMountEntry mounted = awaitMounted();
    String target = mounted.target;
    assertThat(target).isEqualTo(cluster.mountBase().resolve(EXAMPLE).toString());

    Pod reader = createPod(documentedReader());
    awaitLog(reader, APP_TEXT);
    awaitLog(early, APP_TEXT); // it started before the mount existed, and saw it appear
    assertProbesAnswer(reader);
    Eventually.within(
        TIMEOUT,
        () ->
            assertThat(cluster.onHost("cat", mounted.upperdir + "/written-by-pod"))
                .as("the pod's write lands in the OverlayMount's upper")
                .isNotBlank());

    List<Pod> volumePods = podVolumes();

    MountIds before = mountIds(target, reader);
    String agentPod = agentPod().getMetadata().getName();
    client.pods().inNamespace(NAMESPACE).withName(agentPod).delete();
    awaitAgentReplaced(agentPod);
    awaitMountedAgain();
    assertThat(mountIds(target, reader))
        .as("the agent's restart keeps the mount")
        .isEqualTo(before);
    for (Pod pod : volumePods) {
      assertThat(exec(pod, "cat", "/tools/written"))
          .as("the agent's restart keeps the pod's volume")
          .isEqualTo(pod.getMetadata().getName() + "\n");
    }
    podVolumesGoWithTheirPods(volumePods);
    aVolumeFetchesItsLayerSetOnDemandAndHoldsItThroughDeletion();

    agentPod = agentPod().getMetadata().getName();
    helm(
        "upgrade",
        "strata",
        chart(),
        "--namespace",
        NAMESPACE,
        "--reuse-values",
        "--set",
        "agent.concurrentFetches=2",
        "--wait",
        "--timeout",
        "3m");
    awaitAgentReplaced(agentPod);
    awaitMountedAgain();
    assertThat(mountIds(target, reader)).as("helm upgrade keeps the mount").isEqualTo(before);
    assertThat(exec(reader, "cat", "/example/" + APP_FILE)).isEqualTo(APP_TEXT);

    handOverLeadership();
    assertProbesAnswer(reader);

    kubectl("delete", "overlaymount", EXAMPLE, "--wait=true", "--timeout=3m");
    Eventually.within(
        TIMEOUT,
        () -> {
          assertThat(mountIds(target, reader).host()).as("unmounted on the node").isNull();
          assertThat(
                  exec(early, "sh", "-c", "[ -e /strata/example/" + APP_FILE + " ] || echo gone"))
              .as("gone from the pod's view")
              .isEqualTo("gone\n");
        });
    for (Pod pod : List.of(early, reader)) {
      assertRunningWithoutRestarts(pod.getMetadata().getName(), "default");
    }

    uninstall();
    client
        .pods()
        .inNamespace("default")
        .withName(early.getMetadata().getName())
        .withGracePeriod(0)
        .delete();
    client
        .pods()
        .inNamespace("default")
        .withName(reader.getMetadata().getName())
        .withGracePeriod(0)
        .delete();
  }

  /**
   * Pod volumes through kubelet and the agent's CSI plugin: two pods of an allowed namespace, one
   * with a Disk and one with a Memory upper, each reading the example LayerSet and writing only
   * into its own upper; a pod of a namespace the LayerSet does not admit is told why and gets no
   * mount. The pods run as a non-root user whose fsGroup may write the volume.
   */
  private List<Pod> podVolumes() throws Exception {
    for (String namespace : List.of(VOLUMES, DENIED)) {
      kubectl("create", "namespace", namespace);
    }
    kubectl("label", "namespace", VOLUMES, "strata.io/tools=allowed");
    kubectl(
        "patch",
        "layerset",
        EXAMPLE,
        "--type=merge",
        "-p",
        "{\"spec\":{\"volumeAccess\":{\"namespaceSelector\":"
            + "{\"matchLabels\":{\"strata.io/tools\":\"allowed\"}}}}}");

    Pod disk = createPod(volumePod("disk-volume", VOLUMES, Map.of("sizeLimit", "32Mi")));
    Pod memory =
        createPod(
            volumePod("memory-volume", VOLUMES, Map.of("medium", "Memory", "sizeLimit", "8Mi")));
    for (Pod pod : List.of(disk, memory)) {
      awaitLog(pod, APP_TEXT);
      assertThat(exec(pod, "cat", "/tools/written")).isEqualTo(pod.getMetadata().getName() + "\n");
    }
    assertThat(
            exec(
                memory,
                "sh",
                "-c",
                "dd if=/dev/zero of=/tools/big bs=1M count=16 2>&1; rm -f /tools/big"))
        .as("a Memory volume holds its sizeLimit")
        .contains("No space left on device");
    assertThat(
            exec(
                disk,
                "sh",
                "-c",
                "dd if=/dev/zero of=/tools/big bs=1M count=64 2>&1; rm -f /tools/big"))
        .as("a Disk volume holds its sizeLimit")
        .contains("No space left on device");
    String mountinfo = cluster.onHost("cat", "/proc/self/mountinfo");
    assertThat(mountinfo.lines().filter(l -> l.contains(" - overlay strata-csi:")))
        .as("one overlay per pod volume, made by the plugin")
        .hasSize(2);
    Eventually.within(
        TIMEOUT,
        () -> {
          LayerSetEntry entry =
              NodeStates.layerSet(client, cluster.nodeName(), EXAMPLE).orElseThrow();
          assertThat(entry.volumes).as("the node counts the volumes").isEqualTo(2);
          assertThat(entry.requestedBy).containsExactly("Selector", "Volume");
          assertThat(
                  client.resources(LayerSet.class).withName(EXAMPLE).get().getStatus().volumeNodes)
              .isEqualTo(1);
        });

    Pod denied =
        client
            .pods()
            .inNamespace(DENIED)
            .resource(volumePod("denied-volume", DENIED, Map.of()))
            .create();
    Eventually.within(
        TIMEOUT,
        () ->
            assertThat(
                    kubectl(
                        "get",
                        "events",
                        "-n",
                        DENIED,
                        "--field-selector",
                        "involvedObject.name=" + denied.getMetadata().getName(),
                        "-o",
                        "jsonpath={.items[*].message}"))
                .contains(
                    "LayerSet example may not be mounted as a volume in namespace " + DENIED));
    assertThat(
            client
                .pods()
                .inNamespace(DENIED)
                .withName(denied.getMetadata().getName())
                .get()
                .getStatus()
                .getPhase())
        .isEqualTo("Pending");
    client
        .pods()
        .inNamespace(DENIED)
        .withName(denied.getMetadata().getName())
        .withGracePeriod(0)
        .delete();
    return List.of(disk, memory);
  }

  /**
   * A LayerSet that selects no node, asked for by a pod's volume: the node fetches it, the pod
   * waits with the progress in its Events and then starts. Deleting the LayerSet while the volume
   * runs waits (InUse, naming the volumes) and leaves the pod its volume; the pod's end lets the
   * deletion finish.
   */
  private void aVolumeFetchesItsLayerSetOnDemandAndHoldsItThroughDeletion() throws Exception {
    LayerSet onDemand =
        Serialization.unmarshal(
            Files.readString(ProjectFiles.examples().resolve("layerset.yaml")), LayerSet.class);
    onDemand.getMetadata().setName(ON_DEMAND);
    onDemand.getSpec().nodeSelector =
        new LabelSelectorBuilder().addToMatchLabels("strata.io/no-such-pool", "true").build();
    onDemand.getSpec().volumeAccess = new LayerSet.VolumeAccess();
    onDemand.getSpec().volumeAccess.namespaceSelector = new LabelSelector();
    client.resource(onDemand).create();

    Pod pod =
        volumePod("on-demand-volume", VOLUMES, Map.of("medium", "Memory", "sizeLimit", "8Mi"));
    pod.getSpec().getVolumes().getFirst().getCsi().getVolumeAttributes().put("layerSet", ON_DEMAND);
    pod = createPod(pod);
    awaitLog(pod, APP_TEXT);
    assertThat(
            kubectl(
                "get",
                "events",
                "-n",
                VOLUMES,
                "--field-selector",
                "involvedObject.name=" + pod.getMetadata().getName(),
                "-o",
                "jsonpath={.items[*].message}"))
        .as("the pod was told it waits for its LayerSet")
        .contains("LayerSet " + ON_DEMAND + " is ");
    Eventually.within(
        TIMEOUT,
        () ->
            assertThat(
                    NodeStates.layerSet(client, cluster.nodeName(), ON_DEMAND)
                        .orElseThrow()
                        .requestedBy)
                .containsExactly("Volume"));

    kubectl("delete", "layerset", ON_DEMAND, "--wait=false");
    Eventually.within(
        TIMEOUT,
        () ->
            assertThat(
                    client
                        .resources(LayerSet.class)
                        .withName(ON_DEMAND)
                        .get()
                        .getStatus()
                        .conditions)
                .anySatisfy(
                    c -> {
                      assertThat(c.getType()).isEqualTo("Deleting");
                      assertThat(c.getReason()).isEqualTo("InUse");
                      assertThat(c.getMessage()).contains("pod volumes on 1 nodes");
                    }));
    Consistently.during(
        Duration.ofSeconds(5),
        () -> assertThat(client.resources(LayerSet.class).withName(ON_DEMAND).get()).isNotNull());
    assertThat(exec(pod, "cat", "/tools/" + APP_FILE)).isEqualTo(APP_TEXT);

    client
        .pods()
        .inNamespace(VOLUMES)
        .withName(pod.getMetadata().getName())
        .withGracePeriod(1)
        .delete();
    Eventually.within(
        TIMEOUT,
        () -> assertThat(client.resources(LayerSet.class).withName(ON_DEMAND).get()).isNull());
  }

  /** Deleting the pods unmounts their volumes and removes their uppers: nothing is left. */
  private void podVolumesGoWithTheirPods(List<Pod> pods) throws Exception {
    for (Pod pod : pods) {
      // Their sleep ignores SIGTERM: a second's grace, not thirty.
      client
          .pods()
          .inNamespace(namespaceOf(pod))
          .withName(pod.getMetadata().getName())
          .withGracePeriod(1)
          .delete();
    }
    Eventually.within(
        TIMEOUT,
        () -> {
          assertThat(client.pods().inNamespace(VOLUMES).list().getItems()).isEmpty();
          assertThat(cluster.onHost("cat", "/proc/self/mountinfo")).doesNotContain("strata-csi");
          assertThat(
                  cluster.onHost("sh", "-c", "ls -A /var/lib/strata/volumes 2>/dev/null || true"))
              .as("the volumes' uppers are removed")
              .isBlank();
        });
  }

  /**
   * A pod with an inline Strata volume of the example LayerSet, as a user under the restricted Pod
   * Security Standard writes it (apart from the host's network, which this node needs): it reads a
   * file of the layers, then writes its own name into the volume.
   */
  private Pod volumePod(String name, String namespace, Map<String, String> attributes) {
    Map<String, String> volumeAttributes = new HashMap<>(attributes);
    volumeAttributes.put("layerSet", EXAMPLE);
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(namespace)
        .endMetadata()
        .withNewSpec()
        .withNodeName(cluster.nodeName())
        .withHostNetwork(true)
        .withNewSecurityContext()
        .withRunAsNonRoot(true)
        .withRunAsUser(1000L)
        .withRunAsGroup(1000L)
        .withFsGroup(2000L)
        .withNewSeccompProfile()
        .withType("RuntimeDefault")
        .endSeccompProfile()
        .endSecurityContext()
        .addNewContainer()
        .withName("app")
        .withImage(BUSYBOX)
        .withImagePullPolicy("Never")
        .withCommand(
            "sh",
            "-c",
            "cat /tools/" + APP_FILE + " && echo " + name + " > /tools/written && exec sleep 3600")
        .withNewSecurityContext()
        .withAllowPrivilegeEscalation(false)
        .withNewCapabilities()
        .withDrop("ALL")
        .endCapabilities()
        .endSecurityContext()
        .addNewVolumeMount()
        .withName("tools")
        .withMountPath("/tools")
        .endVolumeMount()
        .endContainer()
        .addNewVolume()
        .withName("tools")
        .withNewCsi()
        .withDriver("csi.strata.io")
        .withVolumeAttributes(volumeAttributes)
        .endCsi()
        .endVolume()
        .endSpec()
        .build();
  }

  /** As docs/install.md installs it: the namespace labelled privileged, then helm install. */
  private void install() throws Exception {
    kubectl("create", "namespace", NAMESPACE);
    kubectl("label", "namespace", NAMESPACE, "pod-security.kubernetes.io/enforce=privileged");
    List<String> args =
        new ArrayList<>(
            List.of(
                "install",
                "strata",
                chart(),
                "--namespace",
                NAMESPACE,
                "--set",
                "image.repository=strata",
                "--set",
                "image.tag=" + Version.get(),
                "--set",
                "image.pullPolicy=Never",
                "--set",
                "agent.mountBase=" + cluster.mountBase(),
                "--set",
                "csi.kubeletDir=" + cluster.kubeletDir()));
    for (String value : hostNetworkValues(cluster.apiServerPort())) {
      args.addAll(List.of("--set", value));
    }
    args.addAll(List.of("--wait", "--timeout", "3m"));
    helm(args.toArray(String[]::new));

    Pod agent = agentPod();
    Pod controller = controllerPod();
    assertThat(agent.getSpec().getServiceAccountName()).isEqualTo("strata-agent");
    assertThat(controller.getSpec().getServiceAccountName()).isEqualTo("strata-controller");
    assertThat(controller.getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
    Eventually.within(
        TIMEOUT,
        () -> {
          assertThat(kubectl("logs", "-n", NAMESPACE, agent.getMetadata().getName()))
              .contains("agent for node " + cluster.nodeName() + " started")
              .contains("NodeLayerState " + cluster.nodeName());
          assertThat(kubectl("logs", "-n", NAMESPACE, controller.getMetadata().getName()))
              .contains("is now the leader");
        });
    // Probes keep passing: both stay ready and unrestarted for a few liveness periods' worth.
    assertRunningWithoutRestarts(agent.getMetadata().getName(), NAMESPACE);
    assertRunningWithoutRestarts(controller.getMetadata().getName(), NAMESPACE);
    // The command line in the agent's pod, as an operator types it: it runs with the pod's JVM
    // options, checks the node it runs on, and prints nothing but its findings.
    String doctor = kubectl("-n", NAMESPACE, "exec", "ds/strata-agent", "--", "strata", "doctor");
    assertThat(doctor).contains("overlay").doesNotContain("Picked up", "WARNING");
  }

  /**
   * The example layers as a ConfigMap, served by busybox httpd on the node's loopback at the port
   * {@code examples/layerset.yaml} names: the LayerSet is applied exactly as shipped.
   */
  private void serveExampleLayers() throws Exception {
    Map<String, String> layers = new HashMap<>();
    try (Stream<Path> files = Files.list(ProjectFiles.examples().resolve("layers"))) {
      for (Path file : files.toList()) {
        layers.put(
            file.getFileName().toString(),
            Base64.getEncoder().encodeToString(Files.readAllBytes(file)));
      }
    }
    client
        .configMaps()
        .inNamespace("default")
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("example-layers")
                .endMetadata()
                .withBinaryData(layers)
                .build())
        .create();
    Pod server =
        new PodBuilder()
            .withNewMetadata()
            .withName("example-layers")
            .endMetadata()
            .withNewSpec()
            .withNodeName(cluster.nodeName())
            .withHostNetwork(true)
            .addNewContainer()
            .withName("httpd")
            .withImage(BUSYBOX)
            .withImagePullPolicy("Never")
            .withCommand("httpd", "-f", "-p", "127.0.0.1:18080", "-h", "/layers")
            .addNewVolumeMount()
            .withName("layers")
            .withMountPath("/layers")
            .endVolumeMount()
            .endContainer()
            .addNewVolume()
            .withName("layers")
            .withNewConfigMap()
            .withName("example-layers")
            .endConfigMap()
            .endVolume()
            .endSpec()
            .build();
    createPod(server);
  }

  /** A pod on the node before the mount exists, watching the mount base for it. */
  private Pod earlyReader() {
    return new PodBuilder()
        .withNewMetadata()
        .withName("early-reader")
        .endMetadata()
        .withNewSpec()
        .withNodeName(cluster.nodeName())
        .withHostNetwork(true)
        .addNewContainer()
        .withName("reader")
        .withImage(BUSYBOX)
        .withImagePullPolicy("Never")
        .withCommand(
            "sh",
            "-c",
            "until [ -f /strata/example/"
                + APP_FILE
                + " ]; do sleep 0.2; done;"
                + " cat /strata/example/"
                + APP_FILE
                + "; exec sleep 3600")
        .addNewVolumeMount()
        .withName("strata")
        .withMountPath("/strata")
        .withMountPropagation("HostToContainer")
        .endVolumeMount()
        .endContainer()
        .addNewVolume()
        .withName("strata")
        .withHostPath(new HostPathVolumeSource(cluster.mountBase().toString(), "Directory"))
        .endVolume()
        .endSpec()
        .build();
  }

  /**
   * The pod docs/install.md shows, as written there, with what this cluster needs: the image it
   * has, the host's network, and its mount base.
   */
  private Pod documentedReader() throws Exception {
    Pod pod = Serialization.unmarshal(documentedPodYaml(), Pod.class);
    pod.getSpec().setHostNetwork(true);
    pod.getSpec()
        .getContainers()
        .forEach(
            c -> {
              c.setImage(BUSYBOX);
              c.setImagePullPolicy("Never");
            });
    pod.getSpec()
        .getVolumes()
        .get(0)
        .getHostPath()
        .setPath(cluster.mountBase().resolve(EXAMPLE).toString());
    return pod;
  }

  /** The YAML block that follows the marker naming this scenario in docs/install.md. */
  static String documentedPodYaml() throws Exception {
    List<String> lines = Files.readAllLines(ProjectFiles.root().resolve("docs/install.md"));
    int marker = 0;
    while (marker < lines.size() && !lines.get(marker).contains("(NodeScenario) runs this pod")) {
      marker++;
    }
    int start = marker;
    while (start < lines.size() && !lines.get(start).equals("```yaml")) {
      start++;
    }
    int end = start + 1;
    while (end < lines.size() && !lines.get(end).equals("```")) {
      end++;
    }
    assertThat(end)
        .as("a ```yaml block after the NodeScenario marker in docs/install.md")
        .isLessThan(lines.size());
    return String.join("\n", lines.subList(start + 1, end));
  }

  private Pod createPod(Pod pod) {
    String namespace = namespaceOf(pod);
    Pod created = client.pods().inNamespace(namespace).resource(pod).create();
    client
        .pods()
        .inNamespace(namespace)
        .withName(pod.getMetadata().getName())
        .waitUntilCondition(
            Readiness::isPodReady, TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
    return created;
  }

  private OverlayMountEntry awaitMounted() {
    Eventually.within(
        TIMEOUT,
        () -> {
          OverlayMount.Status status =
              client.resources(OverlayMount.class).withName(EXAMPLE).get().getStatus();
          assertThat(status).isNotNull();
          assertThat(status.readyNodes).isEqualTo(1);
          assertThat(client.nodes().withName(cluster.nodeName()).get().getMetadata().getLabels())
              .containsEntry(StrataApi.OVERLAYMOUNT_LABEL_PREFIX + EXAMPLE, "mounted");
          assertThat(entry().map(e -> e.phase)).contains(MountPhase.Mounted);
        });
    return entry().orElseThrow();
  }

  /** After an agent restart: its NodeLayerState lists the adopted mount as Mounted again. */
  private void awaitMountedAgain() {
    Eventually.within(
        TIMEOUT, () -> assertThat(entry().map(e -> e.phase)).contains(MountPhase.Mounted));
  }

  private Optional<OverlayMountEntry> entry() {
    return NodeStates.overlayMount(client, cluster.nodeName(), EXAMPLE);
  }

  /** The mount's ID on the node and in a pod's view of it (null where it is not mounted). */
  record MountIds(String host, String pod) {}

  private MountIds mountIds(String target, Pod pod) throws Exception {
    return new MountIds(
        mountId(cluster.onHost("cat", "/proc/self/mountinfo"), target),
        mountId(exec(pod, "cat", "/proc/self/mountinfo"), "/example"));
  }

  private static String mountId(String mountinfo, String mountPoint) {
    return mountinfo
        .lines()
        .map(line -> line.split(" "))
        .filter(fields -> fields.length > 4 && fields[4].equals(mountPoint))
        .map(fields -> fields[0])
        .reduce((first, last) -> last) // the topmost of stacked mounts
        .orElse(null);
  }

  private Pod agentPod() {
    return onlyPod("agent");
  }

  private Pod controllerPod() {
    return onlyPod("controller");
  }

  private Pod onlyPod(String component) {
    List<Pod> pods =
        client
            .pods()
            .inNamespace(NAMESPACE)
            .withLabel("app.kubernetes.io/component", component)
            .list()
            .getItems()
            .stream()
            .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
            .toList();
    assertThat(pods).as(component + " pods").hasSize(1);
    return pods.get(0);
  }

  private void awaitAgentReplaced(String old) {
    Eventually.within(
        TIMEOUT,
        () -> {
          Pod agent = agentPod();
          assertThat(agent.getMetadata().getName()).isNotEqualTo(old);
          assertThat(Readiness.isPodReady(agent)).isTrue();
          assertThat(client.pods().inNamespace(NAMESPACE).withName(old).get()).isNull();
        });
  }

  /** Deleting the leader's pod: its replacement takes the Lease and carries on. */
  private void handOverLeadership() throws Exception {
    String leader = controllerPod().getMetadata().getName();
    assertThat(leaseHolder()).startsWith(leader);
    client.pods().inNamespace(NAMESPACE).withName(leader).delete();
    Eventually.within(
        TIMEOUT,
        () -> {
          Pod successor = controllerPod();
          assertThat(successor.getMetadata().getName()).isNotEqualTo(leader);
          assertThat(Readiness.isPodReady(successor)).isTrue();
          assertThat(leaseHolder()).startsWith(successor.getMetadata().getName());
        });
  }

  private String leaseHolder() {
    Lease lease = client.leases().inNamespace(NAMESPACE).withName("strata-controller").get();
    return lease == null ? "" : String.valueOf(lease.getSpec().getHolderIdentity());
  }

  /** docs/install.md's order: the resources first, waiting until they are gone, then Helm. */
  private void uninstall() throws Exception {
    kubectl("delete", "overlaymounts", "--all", "--wait=true", "--timeout=3m");
    kubectl("delete", "layersets", "--all", "--wait=true", "--timeout=3m");
    Eventually.within(
        TIMEOUT,
        () -> {
          assertThat(client.resources(LayerSet.class).list().getItems()).isEmpty();
          assertThat(client.resources(OverlayMount.class).list().getItems()).isEmpty();
          assertThat(client.nodes().withName(cluster.nodeName()).get().getMetadata().getLabels())
              .doesNotContainKey(StrataApi.LAYERSET_LABEL_PREFIX + EXAMPLE);
        });
    helm("uninstall", "strata", "--namespace", NAMESPACE, "--wait", "--timeout", "3m");
    Eventually.within(
        TIMEOUT,
        () -> assertThat(client.pods().inNamespace(NAMESPACE).list().getItems()).isEmpty());
  }

  /**
   * What the probes ask, asked from a pod on the node's network: both processes' liveness and
   * readiness endpoints answer 200 (busybox wget fails on any other status). A liveness probe
   * kubelet let fail a few times would not show as a restart within this scenario.
   */
  private void assertProbesAnswer(Pod onHostNetwork) throws Exception {
    for (int port : List.of(AGENT_PORT, CONTROLLER_PORT)) {
      for (String path : List.of("/healthz", "/readyz")) {
        exec(onHostNetwork, "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:" + port + path);
      }
    }
  }

  private void assertRunningWithoutRestarts(String pod, String namespace) {
    Pod current = client.pods().inNamespace(namespace).withName(pod).get();
    assertThat(current.getStatus().getPhase()).as(pod).isEqualTo("Running");
    assertThat(current.getStatus().getContainerStatuses())
        .as(pod + " restarts")
        .extracting(ContainerStatus::getRestartCount)
        .containsOnly(0);
  }

  private void awaitLog(Pod pod, String text) {
    Eventually.within(
        TIMEOUT,
        () ->
            assertThat(kubectl("logs", "-n", namespaceOf(pod), pod.getMetadata().getName()))
                .contains(text));
  }

  private static String namespaceOf(Pod pod) {
    String namespace = pod.getMetadata().getNamespace();
    return namespace != null ? namespace : "default";
  }

  private String exec(Pod pod, String... command) throws Exception {
    List<String> args =
        new ArrayList<>(List.of("exec", "-n", namespaceOf(pod), pod.getMetadata().getName(), "--"));
    args.addAll(List.of(command));
    return kubectl(args.toArray(String[]::new));
  }

  private String kubectl(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(ControlPlane.kubectl().toString());
    command.addAll(List.of("--kubeconfig", cluster.kubeconfig().toString()));
    command.addAll(List.of(args));
    return Tools.run(ProjectFiles.root(), command.toArray(String[]::new));
  }

  private String helm(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(ControlPlane.helm().toString());
    command.addAll(List.of("--kubeconfig", cluster.kubeconfig().toString()));
    command.addAll(List.of(args));
    return Tools.run(ProjectFiles.root(), command.toArray(String[]::new));
  }

  private static String chart() {
    return ProjectFiles.root().resolve("charts/strata").toString();
  }

  /** A pod image from {@code hack/build-node-images.sh}. */
  public static Path nodeImage(String name) {
    Path tar = Tools.testCache().resolve("node-images").resolve(name + ".tar");
    Tools.require(
        Files.isRegularFile(tar), "the node image " + tar + " (hack/build-node-images.sh)");
    return tar;
  }
}
