package io.strata.csi;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.layout.NodeLayout;
import io.strata.overlay.Overlays;
import io.strata.sys.Syscalls;
import io.strata.testing.ControlPlane;
import io.strata.testing.RootMounts;
import io.strata.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kubernetes CSI conformance tests (csi-sanity, built by {@code hack/build-control-plane.sh})
 * against the plugin's socket, for the Identity and Node services. Without a Controller service the
 * cases that create a volume first cannot run: exactly those are skipped here, and every other skip
 * is csi-sanity's own for a capability Strata does not claim. A skip not on these lists fails the
 * test.
 */
class CsiSanityIT {
  /** Skipped here: they call CreateVolume, which a driver of inline volumes does not serve. */
  static final List<String> SKIPPED_FOR_CREATE_VOLUME =
      List.of(
          "Node Service NodeUnpublishVolume should remove target path",
          "Node Service NodeGetVolumeStats should fail when volume does not exist on the specified"
              + " path");

  /**
   * Skipped by csi-sanity itself, each for what Strata does not claim: staging, expansion, volume
   * health, single-node-multi-writer; and the lifecycle cases that need a Controller service.
   */
  static final List<String> SKIPPED_BY_CSI_SANITY =
      List.of(
          "Node Service NodeStageVolume ",
          "Node Service NodeUnstageVolume ",
          "Node Service NodeExpandVolume ",
          "Node Service NodeGetVolumeHealth ",
          "Node Service NodeGetStorageHealth ",
          "Node Service NodePublishVolume with single node multi writer capability ",
          "Node Service should work",
          "Node Service should be idempotent");

  @TempDir Path tmp;

  private RootMounts node;
  private CsiServer server;

  @BeforeEach
  void start() throws Exception {
    node = RootMounts.prepare(tmp);
    CsiLayout csi = new CsiLayout(node.root.resolve("kubelet"));
    Files.createDirectories(csi.podsDir());
    Path root = node.stateDir.resolve("layers/ab12/root");
    Files.createDirectories(root);
    NodeLayout layout = new NodeLayout(node.stateDir, node.mountBase);
    server =
        CsiServer.start(
            "sanity-node",
            new PodVolumes(
                layout,
                csi,
                new Overlays(layout, Syscalls.get()),
                Syscalls.get(),
                (name, namespace) -> root,
                new VolumeAttributes.Sizes(16L << 20, 1L << 30),
                () -> {}));
  }

  @AfterEach
  void stop() throws IOException {
    if (server != null) {
      server.close();
    }
    if (node != null) {
      node.cleanUp();
    }
  }

  @Test
  void theIdentityAndNodeServicesPassCsiSanity() throws Exception {
    Path sanity = ControlPlane.binaryDir().getParent().getParent().resolve("bin/csi-sanity");
    Tools.require(
        Files.isExecutable(sanity), "csi-sanity at " + sanity + " (hack/build-control-plane.sh)");
    CsiLayout csi = new CsiLayout(node.root.resolve("kubelet"));
    Path pod = csi.podsDir().resolve("sanity-pod/volumes/kubernetes.io~csi");
    Files.createDirectories(pod); // kubelet makes a volume's parent; csi-sanity the rest
    Path report = tmp.resolve("junit.xml");
    List<String> command = new ArrayList<>();
    command.addAll(
        List.of(
            sanity.toString(),
            "--csi.endpoint=unix://" + csi.csiSocket(),
            "--csi.mountdir=" + pod.resolve("target"),
            "--csi.stagingdir=" + pod.resolve("staging"),
            "--ginkgo.focus=Identity Service|Node Service",
            "--ginkgo.skip=" + String.join("|", SKIPPED_FOR_CREATE_VOLUME),
            "--ginkgo.junit-report=" + report,
            "--ginkgo.no-color"));
    String printed = Tools.run(tmp, command.toArray(String[]::new));

    Map<String, String> outcomes = new TreeMap<>(outcomes(Files.readString(report)));
    outcomes
        .keySet()
        .removeIf(spec -> !spec.startsWith("Identity Service") && !spec.startsWith("Node Service"));
    assertThat(printed).contains("0 Failed");
    assertThat(outcomes).as("Identity and Node specs csi-sanity ran").hasSizeGreaterThan(25);
    outcomes.forEach(
        (spec, outcome) -> {
          boolean expectedSkip =
              SKIPPED_FOR_CREATE_VOLUME.contains(spec)
                  || SKIPPED_BY_CSI_SANITY.stream().anyMatch(spec::startsWith);
          assertThat(outcome).as(spec).isEqualTo(expectedSkip ? "skipped" : "passed");
        });
    assertThat(outcomes.values().stream().filter("passed"::equals).count())
        .as("specs passed")
        .isEqualTo(13);
  }

  /** Each spec's name and how it ended, from ginkgo's JUnit report. */
  static Map<String, String> outcomes(String junit) {
    Map<String, String> outcomes = new TreeMap<>();
    Matcher testcase =
        Pattern.compile("<testcase name=\"([^\"]*)\"[^>]*status=\"([a-z]+)\"").matcher(junit);
    while (testcase.find()) {
      outcomes.put(
          testcase.group(1).replaceFirst("^\\[It\\] ", "").replace("&#39;", "'"),
          testcase.group(2));
    }
    return outcomes;
  }
}
