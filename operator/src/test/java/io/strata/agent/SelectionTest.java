package io.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.strata.crd.LayerSet;
import io.strata.crd.OverlayMount;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SelectionTest {
  private static final Map<String, String> NODE = Map.of("pool", "gpu", "zone", "a");

  @Test
  void servesLayerSetsWhoseSelectorMatchesInNameOrder() {
    Selection selection =
        Selection.forNode(
            NODE,
            List.of(layerSet("zeta", null), layerSet("alpha", "gpu"), layerSet("cpu-only", "cpu")),
            List.of());
    assertThat(selection.layerSets())
        .extracting(ls -> ls.getMetadata().getName())
        .containsExactly("alpha", "zeta");
  }

  @Test
  void mountsNeedTheirLayerSetServedAndTheirOwnSelectorToMatch() {
    List<LayerSet> layerSets = List.of(layerSet("gpu-set", "gpu"), layerSet("cpu-set", "cpu"));
    Selection selection =
        Selection.forNode(
            NODE,
            layerSets,
            List.of(
                mount("on-gpu-set", "gpu-set", null),
                mount("on-cpu-set", "cpu-set", null),
                mount("on-missing-set", "missing", null),
                mount("narrowed-in", "gpu-set", "a"),
                mount("narrowed-out", "gpu-set", "b")));
    assertThat(selection.overlayMounts())
        .extracting(om -> om.getMetadata().getName())
        .containsExactly("narrowed-in", "on-gpu-set");
  }

  @Test
  void objectsBeingDeletedAreNotServed() {
    LayerSet deleting = layerSet("going", null);
    deleting.getMetadata().setDeletionTimestamp("2026-01-01T00:00:00Z");
    OverlayMount mountOfDeleting = mount("on-going", "going", null);
    Selection selection = Selection.forNode(NODE, List.of(deleting), List.of(mountOfDeleting));
    assertThat(selection.layerSets()).isEmpty();
    assertThat(selection.overlayMounts()).isEmpty();
  }

  static LayerSet layerSet(String name, String pool) {
    LayerSet layerSet = new LayerSet();
    layerSet.getMetadata().setName(name);
    layerSet.getMetadata().setGeneration(1L);
    layerSet.setSpec(new LayerSet.Spec());
    if (pool != null) {
      layerSet.getSpec().nodeSelector =
          new LabelSelectorBuilder().addToMatchLabels("pool", pool).build();
    }
    return layerSet;
  }

  static OverlayMount mount(String name, String layerSet, String zone) {
    OverlayMount mount = new OverlayMount();
    mount.getMetadata().setName(name);
    mount.getMetadata().setGeneration(1L);
    mount.setSpec(new OverlayMount.Spec());
    mount.getSpec().layerSetRef = new OverlayMount.LayerSetReference(layerSet);
    if (zone != null) {
      mount.getSpec().nodeSelector =
          new LabelSelectorBuilder().addToMatchLabels("zone", zone).build();
    }
    return mount;
  }
}
