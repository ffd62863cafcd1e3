package io.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.OverlayMount;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SelectionTest {
  private static final Map<String, String> NODE = Map.of("pool", "gpu", "zone", "a");

  @Test
  void servesLayerSetsWhoseSelectorMatchesInNameOrder() {
    Selection selection =
        Selection.forNode(
            NODE,
            List.of(layerSet("zeta", null), layerSet("alpha", "gpu"), layerSet("cpu-only", "cpu")),
            List.of(),
            Set.of());
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
                mount("narrowed-out", "gpu-set", "b")),
            Set.of());
    assertThat(selection.overlayMounts())
        .extracting(om -> om.getMetadata().getName())
        .containsExactly("narrowed-in", "on-gpu-set");
  }

  @Test
  void objectsBeingDeletedAreNotServed() {
    LayerSet deleting = layerSet("going", null);
    deleting.getMetadata().setDeletionTimestamp("2026-01-01T00:00:00Z");
    OverlayMount mountOfDeleting = mount("on-going", "going", null);
    mountOfDeleting.getMetadata().setDeletionTimestamp("2026-01-01T00:00:00Z");
    Selection selection =
        Selection.forNode(NODE, List.of(deleting), List.of(mountOfDeleting), Set.of("going"));
    assertThat(selection.layerSets()).isEmpty();
    assertThat(selection.overlayMounts()).isEmpty();
  }

  /**
   * A mistaken {@code kubectl delete lset} never takes a mount (and its upper) away: the LayerSet
   * stays served where a live OverlayMount uses it, and only there.
   */
  @Test
  void aLayerSetBeingDeletedIsStillServedWhereALiveOverlayMountUsesIt() {
    LayerSet used = layerSet("used", null);
    used.getMetadata().setDeletionTimestamp("2026-01-01T00:00:00Z");
    LayerSet unused = layerSet("unused", null);
    unused.getMetadata().setDeletionTimestamp("2026-01-01T00:00:00Z");
    Selection selection =
        Selection.forNode(
            NODE,
            List.of(used, unused),
            List.of(mount("on-used", "used", null), mount("elsewhere", "unused", "b")),
            Set.of("used", "unused"));
    assertThat(selection.layerSets())
        .extracting(ls -> ls.getMetadata().getName())
        .containsExactly("used");
    assertThat(selection.overlayMounts())
        .extracting(om -> om.getMetadata().getName())
        .containsExactly("on-used");
  }

  /**
   * 256 LayerSets named to sort first do not push out what a node holds, nor the mounts on it: they
   * are refused, in order, and what it held stays served.
   */
  @Test
  void theBoundNeverEvictsWhatANodeHolds() {
    List<LayerSet> all = new ArrayList<>();
    all.add(layerSet("held-one", null));
    all.add(layerSet("held-two", null));
    for (int i = 0; i < NodeLayerState.MAX_ENTRIES; i++) {
      LayerSet early = layerSet(String.format("aaa-%03d", i), null);
      early.getMetadata().setCreationTimestamp("2020-01-01T00:00:00Z"); // older, too
      all.add(early);
    }
    Selection selection =
        Selection.forNode(
            NODE,
            all,
            List.of(mount("m1", "held-one", null), mount("m2", "held-two", null)),
            Set.of("held-one", "held-two"));

    assertThat(selection.layerSets()).hasSize(NodeLayerState.MAX_ENTRIES);
    assertThat(selection.layerSets())
        .extracting(ls -> ls.getMetadata().getName())
        .contains("held-one", "held-two");
    assertThat(selection.overlayMounts())
        .extracting(om -> om.getMetadata().getName())
        .containsExactly("m1", "m2");
    assertThat(selection.refused())
        .extracting(ls -> ls.getMetadata().getName())
        .containsExactly("aaa-254", "aaa-255");
  }

  /** Among LayerSets no node holds yet, the older ones win the bound, not the earlier names. */
  @Test
  void pastTheBoundTheNewestAreRefused() {
    List<LayerSet> all = new ArrayList<>();
    for (int i = 0; i <= NodeLayerState.MAX_ENTRIES; i++) {
      LayerSet layerSet = layerSet(String.format("z-%03d", i), null);
      layerSet
          .getMetadata()
          .setCreationTimestamp(String.format("2026-01-01T00:%02d:%02dZ", i / 60, i % 60));
      all.add(layerSet);
    }
    LayerSet newest = layerSet("a-newest", null);
    newest.getMetadata().setCreationTimestamp("2026-06-01T00:00:00Z");
    all.add(newest);

    Selection selection = Selection.forNode(NODE, all, List.of(), Set.of());

    assertThat(selection.refused())
        .extracting(ls -> ls.getMetadata().getName())
        .containsExactly(String.format("z-%03d", NodeLayerState.MAX_ENTRIES), "a-newest");
  }

  @Test
  void podVolumesHoldTheirLayerSetWhateverItsSelectorSaysAndWhileItIsDeleted() {
    LayerSet elsewhere = layerSet("cpu-tools", "cpu");
    LayerSet going = layerSet("going", null);
    going.getMetadata().setDeletionTimestamp("2026-01-01T00:00:00Z");
    LayerSet here = layerSet("gpu-tools", "gpu");

    Selection selection =
        Selection.forNode(
            NODE,
            List.of(elsewhere, going, here),
            List.of(),
            Set.of(),
            new Selection.VolumeUse(Map.of("cpu-tools", 2, "going", 1, "gpu-tools", 3), Set.of()));

    assertThat(selection.layerSets())
        .extracting(ls -> ls.getMetadata().getName())
        .containsExactly("cpu-tools", "going", "gpu-tools");
    assertThat(selection.requestedBy())
        .containsEntry("cpu-tools", List.of(Selection.VOLUME))
        .containsEntry("going", List.of(Selection.VOLUME))
        .containsEntry("gpu-tools", List.of(Selection.SELECTOR, Selection.VOLUME));
    assertThat(selection.volumes()).containsEntry("cpu-tools", 2).containsEntry("gpu-tools", 3);
  }

  @Test
  void aLayerSetAPodAskedForIsFetchedOnDemandUnlessItIsBeingDeleted() {
    LayerSet asked = layerSet("cpu-tools", "cpu");
    LayerSet going = layerSet("going", "cpu");
    going.getMetadata().setDeletionTimestamp("2026-01-01T00:00:00Z");

    Selection selection =
        Selection.forNode(
            NODE,
            List.of(asked, going, layerSet("other", "cpu")),
            List.of(),
            Set.of(),
            new Selection.VolumeUse(Map.of(), Set.of("cpu-tools", "going")));

    assertThat(selection.layerSets())
        .extracting(ls -> ls.getMetadata().getName())
        .containsExactly("cpu-tools");
    assertThat(selection.requestedBy()).containsOnlyKeys("cpu-tools");
    assertThat(selection.volumes()).isEmpty();
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
