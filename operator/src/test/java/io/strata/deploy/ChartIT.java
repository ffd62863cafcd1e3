package io.strata.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.testing.ControlPlane;
import io.strata.testing.ProjectFiles;
import io.strata.testing.Tools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Helm chart: lint-clean, its schema refuses mistyped values, what it renders (default and
 * non-default values) is accepted by a real API server (server-side dry run), and {@code deploy/}
 * is exactly what it renders.
 */
class ChartIT {
  private static final Path CHART = ProjectFiles.root().resolve("charts/strata");

  @TempDir Path tmp;

  private static String helm(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(ControlPlane.helm().toString()));
    command.addAll(List.of(args));
    return Tools.run(ProjectFiles.root(), command.toArray(String[]::new));
  }

  @Test
  void theChartLintsStrictly() throws Exception {
    assertThat(helm("lint", "--strict", CHART.toString())).contains("0 chart(s) failed");
  }

  @Test
  void defaultValuesApplyToARealApiServer() throws Exception {
    String rendered = helm("template", "strata", CHART.toString(), "--namespace", "strata-system");
    assertThat(kinds(rendered))
        .contains(
            "DaemonSet", "Deployment", "ClusterRole", "Role", "ServiceAccount", "Service", "Job")
        .contains("CustomResourceDefinition", "CSIDriver");
    assertDryRunAccepts(rendered);
    // The agent DaemonSet as the issue asks for it.
    assertThat(rendered)
        .contains("maxSurge: 0", "privileged: true", "priorityClassName: system-node-critical")
        .contains("mountPropagation: Bidirectional", "fieldPath: spec.nodeName")
        .contains("path: /healthz", "path: /readyz");
    // The CSI plugin: its kubelet directories, and a driver kubelet never lets chown the tree.
    assertThat(rendered)
        .contains("--csi=true", "--kubelet-dir=/var/lib/kubelet", "--csi-max-size=8Gi")
        .contains("--csi-default-disk-size=1Gi")
        .contains("mountPath: /var/lib/kubelet/pods", "path: /var/lib/kubelet/plugins_registry")
        .contains("podInfoOnMount: true", "volumeLifecycleModes: [Ephemeral]")
        .contains("fsGroupPolicy: None", "attachRequired: false");
  }

  @Test
  void nonDefaultValuesApplyToARealApiServer() throws Exception {
    Path values = tmp.resolve("values.yaml");
    Files.writeString(
        values,
        """
        image: {repository: registry.example/platform/strata, tag: "9.9.9", pullPolicy: Always}
        imagePullSecrets: [{name: platform-pull}]
        namespace: {create: true}
        crds: {install: false}
        agent:
          stateDir: /data/strata
          mountBase: /run/strata-mounts
          httpPort: 9100
          concurrentFetches: 8
          cacheMaxBytes: 107374182400
          pullSecretNames: [regcred, mirrorcred]
          nodeSelector: {strata.io/cache: "true"}
          tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]
          extraEnv: [{name: HTTPS_PROXY, value: "http://proxy.internal:3128"}]
        controller: {replicas: 3, nodeGrace: PT10M}
        registries:
          caBundleConfigMap: corp-ca
          mirrors: ["registry.example=https://mirror.internal:5000"]
          insecure: ["registry.lab:5000"]
        csi: {kubeletDir: /var/lib/k0s/kubelet, defaultDiskSize: 512Mi, maxSize: 2Gi}
        metrics: {enabled: false}
        removeFinalizersOnUninstall: false
        """);
    String rendered =
        helm(
            "template",
            "strata",
            CHART.toString(),
            "--namespace",
            "strata-system",
            "--values",
            values.toString(),
            "--kube-version",
            ControlPlane.KUBE_VERSION,
            "--api-versions",
            "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy");
    assertThat(kinds(rendered))
        .contains("Namespace", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")
        .doesNotContain("CustomResourceDefinition", "Service", "Job");
    assertThat(rendered)
        .contains("registry.example/platform/strata:9.9.9")
        .contains("--state-dir=/data/strata", "--cache-max-bytes=107374182400")
        .contains("resourceNames: [\"regcred\",\"mirrorcred\"]")
        .contains("STRATA_REGISTRY_MIRRORS", "STRATA_CA_BUNDLE", "HTTPS_PROXY")
        .contains("--kubelet-dir=/var/lib/k0s/kubelet", "--csi-max-size=2Gi")
        .contains("--csi-default-disk-size=512Mi")
        .contains("path: /var/lib/k0s/kubelet/pods")
        .doesNotContain("/var/lib/kubelet");
    assertDryRunAccepts(rendered);
    String withoutCsi = helm("template", "strata", CHART.toString(), "--set", "csi.enabled=false");
    assertThat(kinds(withoutCsi)).doesNotContain("CSIDriver");
    assertThat(withoutCsi).contains("--csi=false").doesNotContain("kubelet");
  }

  /**
   * Behind values, off by default: a ServiceMonitor per metrics Service, selecting it by its
   * labels, and a PrometheusRule whose groups are exactly the plain rules file promtool tests.
   */
  @Test
  void prometheusOperatorObjectsCarryTheTestedRulesAndSelectTheMetricsServices() throws Exception {
    assertThat(kinds(helm("template", "strata", CHART.toString())))
        .doesNotContain("ServiceMonitor", "PrometheusRule");
    String rendered =
        helm(
            "template",
            "strata",
            CHART.toString(),
            "--namespace",
            "strata-system",
            "--set",
            "metrics.serviceMonitor.enabled=true",
            "--set",
            "metrics.prometheusRule.enabled=true",
            "--set",
            "metrics.prometheusRule.labels.release=prometheus");
    List<Map<String, Object>> objects = new ArrayList<>();
    for (Object document : new org.yaml.snakeyaml.Yaml().loadAll(rendered)) {
      if (document instanceof Map<?, ?> map) {
        @SuppressWarnings("unchecked")
        Map<String, Object> object = (Map<String, Object>) map;
        objects.add(object);
      }
    }
    Map<String, Object> rule = only(objects, "PrometheusRule");
    Object rules =
        new org.yaml.snakeyaml.Yaml()
            .load(Files.readString(CHART.resolve("files/prometheus-rules.yaml")));
    assertThat(rule.get("spec")).isEqualTo(rules);
    assertThat(rule.toString()).contains("release=prometheus");
    for (String component : List.of("agent", "controller")) {
      Map<String, Object> service =
          objects.stream()
              .filter(o -> "Service".equals(o.get("kind")))
              .filter(o -> name(o).equals("strata-" + component + "-metrics"))
              .findFirst()
              .orElseThrow();
      Map<String, Object> monitor =
          objects.stream()
              .filter(o -> "ServiceMonitor".equals(o.get("kind")))
              .filter(o -> name(o).equals("strata-" + component))
              .findFirst()
              .orElseThrow();
      @SuppressWarnings("unchecked")
      Map<String, String> selector =
          (Map<String, String>)
              ((Map<String, Object>) ((Map<String, Object>) monitor.get("spec")).get("selector"))
                  .get("matchLabels");
      @SuppressWarnings("unchecked")
      Map<String, String> labels =
          (Map<String, String>) ((Map<String, Object>) service.get("metadata")).get("labels");
      assertThat(labels).as(component).containsAllEntriesOf(selector);
      assertThat(monitor.toString()).contains("port=http-metrics");
    }
  }

  private static Map<String, Object> only(List<Map<String, Object>> objects, String kind) {
    List<Map<String, Object>> found =
        objects.stream().filter(o -> kind.equals(o.get("kind"))).toList();
    assertThat(found).as(kind).hasSize(1);
    return found.getFirst();
  }

  @SuppressWarnings("unchecked")
  private static String name(Map<String, Object> object) {
    return String.valueOf(((Map<String, Object>) object.get("metadata")).get("name"));
  }

  @Test
  void mistypedValuesFailNamingTheValue() {
    for (String[] wrong :
        List.of(
            new String[] {"agent.concurrentFetchs=3", "additional properties 'concurrentFetchs'"},
            new String[] {"agent.stateDir=var/lib/strata", "/agent/stateDir"},
            new String[] {"agent.fetchTimeout=2m", "/agent/fetchTimeout"},
            new String[] {"controller.replicas=two", "/controller/replicas"},
            new String[] {"image.pullPolicy=Sometimes", "/image/pullPolicy"},
            new String[] {"registries.mirrors[0]=mirror.internal", "/registries/mirrors/0"},
            new String[] {"csi.maxSize=2GB", "/csi/maxSize"},
            new String[] {"csi.kubeletDir=var/lib/kubelet", "/csi/kubeletDir"})) {
      assertThatThrownBy(() -> helm("template", "strata", CHART.toString(), "--set", wrong[0]))
          .as(wrong[0])
          .hasMessageContaining(wrong[1]);
    }
  }

  @Test
  void deployIsWhatTheChartRenders() throws Exception {
    String args = Tools.run(ProjectFiles.root(), "bash", "hack/render-deploy-args.sh").trim();
    List<String> command = new ArrayList<>(List.of("template", "strata", CHART.toString()));
    command.addAll(Arrays.asList(args.split("\\s+")));
    String rendered = helm(command.toArray(String[]::new));
    assertThat(Files.readString(ProjectFiles.root().resolve("deploy/strata.yaml")))
        .as("deploy/strata.yaml is stale: run hack/render-deploy.sh")
        .isEqualTo(rendered);
    assertThat(kinds(rendered)).contains("Namespace", "ValidatingAdmissionPolicy");
    assertThat(kinds(rendered)).doesNotContain("Job"); // no uninstall hook in plain manifests
    assertDryRunAccepts(rendered);
  }

  private static List<String> kinds(String yaml) {
    return yaml.lines()
        .filter(l -> l.startsWith("kind: "))
        .map(l -> l.substring("kind: ".length()).trim())
        .toList();
  }

  /** {@code kubectl apply --server-side --dry-run=server}: validated, admitted, not stored. */
  private void assertDryRunAccepts(String manifests) throws Exception {
    Path kubeconfig = ControlPlane.shared().writeKubeconfig(tmp.resolve("kubeconfig"));
    Path file = Files.writeString(tmp.resolve("manifests.yaml"), manifests);
    Process process =
        new ProcessBuilder(
                ControlPlane.kubectl().toString(),
                "--kubeconfig",
                kubeconfig.toString(),
                "apply",
                "--server-side",
                "--force-conflicts",
                "--dry-run=server",
                "--field-manager=strata-chart-test",
                "-f",
                file.toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor()).as(output).isZero();
    assertThat(output).contains("serverside-applied (server dry run)");
  }
}
