package io.strata.csi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.strata.testing.ControlPlane;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A pod with a Strata volume is admitted where the restricted Pod Security Standard is enforced, by
 * the real API server's PodSecurity admission, where the same pod with a hostPath (how pods reach
 * an OverlayMount) is refused.
 */
class PodSecurityIT {
  private static final String NAMESPACE = "restricted-volumes";

  private static KubernetesClient client;

  @BeforeAll
  static void connect() {
    client = ControlPlane.shared().adminClient();
    client
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(NAMESPACE)
                .withLabels(Map.of("pod-security.kubernetes.io/enforce", "restricted"))
                .endMetadata()
                .build())
        .serverSideApply();
  }

  @AfterAll
  static void close() {
    client.close();
  }

  @Test
  void aStrataVolumeIsAllowedUnderTheRestrictedStandardAndAHostPathIsNot() {
    Volume strata =
        new VolumeBuilder()
            .withName("tools")
            .withNewCsi()
            .withDriver(CsiLayout.DRIVER)
            .withVolumeAttributes(
                Map.of("layerSet", "tools", "medium", "Memory", "sizeLimit", "64Mi"))
            .endCsi()
            .build();
    Pod admitted =
        client.pods().inNamespace(NAMESPACE).resource(pod("strata", strata)).dryRun().create();
    assertThat(admitted.getSpec().getVolumes()).extracting(Volume::getCsi).doesNotContainNull();

    Volume hostPath =
        new VolumeBuilder()
            .withName("tools")
            .withNewHostPath()
            .withPath("/mnt/strata/tools")
            .withType("Directory")
            .endHostPath()
            .build();
    assertThatThrownBy(
            () ->
                client
                    .pods()
                    .inNamespace(NAMESPACE)
                    .resource(pod("hostpath", hostPath))
                    .dryRun()
                    .create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("violates PodSecurity \"restricted:")
        .hasMessageContaining("restricted volume type \"hostPath\"");
  }

  /** A pod that meets the restricted standard in everything but, perhaps, its volume. */
  private static Pod pod(String name, Volume volume) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withNewSecurityContext()
        .withRunAsNonRoot(true)
        .withRunAsUser(1000L)
        .withFsGroup(2000L)
        .withNewSeccompProfile()
        .withType("RuntimeDefault")
        .endSeccompProfile()
        .endSecurityContext()
        .addNewContainer()
        .withName("app")
        .withImage("busybox")
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
        .withVolumes(volume)
        .endSpec()
        .build();
  }
}
