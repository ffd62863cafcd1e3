package io.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import io.strata.csi.VolumeRefusedException;
import io.strata.csi.VolumeRefusedException.Code;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What the CSI plugin is told about a LayerSet, for each way it can stand. */
class VolumeLayerSetsTest {
  private static final String ROOT = "/var/lib/strata/layers/ab12/root";

  private final Map<String, LayerSet> layerSets = new HashMap<>();
  private final Map<String, Map<String, String>> namespaces =
      new HashMap<>(
          Map.of("team-a", Map.of("strata.io/tools", "yes"), "team-b", Map.of("team", "b")));
  private final NodeLayerState.Status status = new NodeLayerState.Status();
  private final VolumeDemand demand =
      new VolumeDemand(Clock.fixed(Instant.parse("2026-12-08T00:00:00Z"), ZoneOffset.UTC));
  private int passes;
  private final VolumeLayerSets roots =
      new VolumeLayerSets(
          "n1",
          name -> Optional.ofNullable(layerSets.get(name)),
          namespace -> Optional.ofNullable(namespaces.get(namespace)),
          () -> status,
          demand,
          () -> passes++);

  @Test
  void aReadyLayerSetTheNamespaceMayUseGivesItsRoot() throws Exception {
    layerSet(
        "tools", new LabelSelectorBuilder().addToMatchLabels("strata.io/tools", "yes").build());
    entry("tools", LayerSetPhase.Ready);

    assertThat(roots.rootFor("tools", "team-a")).isEqualTo(Path.of(ROOT));
  }

  @Test
  void anEmptySelectorAdmitsEveryNamespaceAndNoneAdmitsNone() throws Exception {
    layerSet("open", new LabelSelector());
    layerSet("closed", null);
    entry("open", LayerSetPhase.Ready);
    entry("closed", LayerSetPhase.Ready);

    assertThat(roots.rootFor("open", "team-b")).isEqualTo(Path.of(ROOT));
    assertRefused("closed", "team-a", Code.PERMISSION_DENIED, "admits no namespace");
  }

  @Test
  void eachWayItCannotBeMountedHasItsCode() {
    LabelSelector teamA =
        new LabelSelectorBuilder().addToMatchLabels("strata.io/tools", "yes").build();
    assertRefused("missing", "team-a", Code.NOT_FOUND, "LayerSet missing not found");

    layerSet("tools", teamA);
    assertRefused(
        "tools",
        "team-b",
        Code.PERMISSION_DENIED,
        "LayerSet tools may not be mounted as a volume in namespace team-b");
    assertRefused("tools", "no-such-namespace", Code.PERMISSION_DENIED, "no-such-namespace");
    assertRefused(
        "tools", "team-a", Code.UNAVAILABLE, "LayerSet tools is not on node n1 yet: fetching it");
    assertThat(demand.current()).as("asked for on demand").containsExactly("tools");
    assertThat(passes).as("a pass starts fetching it").isEqualTo(1);

    LayerSetEntry fetching = entry("tools", LayerSetPhase.Fetching);
    fetching.fetchedBytes = 40L;
    fetching.totalBytes = 100L;
    assertRefused(
        "tools", "team-a", Code.UNAVAILABLE, "LayerSet tools is Fetching on node n1: 40%");

    LayerSetEntry failed = entry("tools", LayerSetPhase.Failed);
    failed.reason = "DigestMismatch";
    failed.message = "layer 0 is not what its digest says";
    assertRefused(
        "tools",
        "team-a",
        Code.UNAVAILABLE,
        "LayerSet tools failed on node n1: DigestMismatch: layer 0 is not what its digest says");

    entry("tools", LayerSetPhase.Ready);
    layerSets.get("tools").getMetadata().setDeletionTimestamp("2026-12-08T00:00:00Z");
    assertRefused("tools", "team-a", Code.FAILED_PRECONDITION, "is being deleted");
  }

  private void assertRefused(String name, String namespace, Code code, String says) {
    assertThatThrownBy(() -> roots.rootFor(name, namespace))
        .isInstanceOfSatisfying(
            VolumeRefusedException.class, e -> assertThat(e.code()).isEqualTo(code))
        .hasMessageContaining(says);
  }

  private void layerSet(String name, LabelSelector namespaces) {
    LayerSet layerSet = new LayerSet();
    layerSet.getMetadata().setName(name);
    layerSet.setSpec(new LayerSet.Spec());
    layerSet.getSpec().image = "registry.test/tools:1";
    if (namespaces != null) {
      layerSet.getSpec().volumeAccess = new LayerSet.VolumeAccess();
      layerSet.getSpec().volumeAccess.namespaceSelector = namespaces;
    }
    layerSets.put(name, layerSet);
  }

  private LayerSetEntry entry(String name, LayerSetPhase phase) {
    status.layerSets.removeIf(e -> e.name.equals(name));
    LayerSetEntry entry = new LayerSetEntry();
    entry.name = name;
    entry.phase = phase;
    if (phase == LayerSetPhase.Ready) {
      entry.root = ROOT;
    }
    status.layerSets.add(entry);
    return entry;
  }
}
