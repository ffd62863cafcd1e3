package io.strata.agent;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.OverlayMount;
import io.strata.kube.LabelSelectors;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What one node must serve, decided from its labels and from what it already holds: the LayerSets
 * whose selector matches, and the OverlayMounts whose LayerSet is among them and whose own selector
 * matches too. Pure, so the rules test without a cluster.
 *
 * <p>Two rules keep what a node serves from being taken away by anything but an explicit move:
 *
 * <ul>
 *   <li>A LayerSet being deleted is still served where a live OverlayMount uses it: only the
 *       OverlayMount's own deletion, or a selector edit that no longer selects the node, tears a
 *       mount down (the controller keeps the LayerSet, InUse, meanwhile). A deleted OverlayMount is
 *       not served.
 *   <li>Pod volumes hold their LayerSet: one with a volume mounted on this node is served whatever
 *       its selector says and while it is being deleted, and one a pod asked for as a volume is
 *       fetched here on demand ({@link VolumeUse}).
 *   <li>At most {@link NodeLayerState#MAX_ENTRIES} LayerSets are served, and the bound never
 *       evicts: the ones this node already held come first, then the oldest, then by name. What is
 *       past the bound is {@link #refused()}, to be reported, never served.
 * </ul>
 *
 * @param refused LayerSets that select this node but are past its bound, in the same order
 * @param requestedBy why each served LayerSet is: {@link #SELECTOR}, {@link #VOLUME}, or both
 * @param volumes how many pod volumes on this node use each LayerSet (absent: none)
 */
public record Selection(
    List<LayerSet> layerSets,
    List<OverlayMount> overlayMounts,
    List<LayerSet> refused,
    Map<String, List<String>> requestedBy,
    Map<String, Integer> volumes) {
  public static final String SELECTOR = "Selector";
  public static final String VOLUME = "Volume";

  /**
   * Pod volumes on this node, by LayerSet.
   *
   * @param mounted how many mounted volumes use each LayerSet
   * @param asked LayerSets pods asked for as volumes lately, mounted or not
   */
  public record VolumeUse(Map<String, Integer> mounted, Set<String> asked) {
    public static final VolumeUse NONE = new VolumeUse(Map.of(), Set.of());

    public VolumeUse {
      mounted = Map.copyOf(mounted);
      asked = Set.copyOf(asked);
    }

    boolean holds(String layerSet) {
      return mounted.getOrDefault(layerSet, 0) > 0;
    }
  }

  /** As {@link #forNode(Map, Collection, Collection, Set, VolumeUse)}, without pod volumes. */
  public static Selection forNode(
      Map<String, String> nodeLabels,
      Collection<LayerSet> allLayerSets,
      Collection<OverlayMount> allOverlayMounts,
      Set<String> held) {
    return forNode(nodeLabels, allLayerSets, allOverlayMounts, held, VolumeUse.NONE);
  }

  /**
   * @param held names of the LayerSets this node served before (its NodeLayerState's entries)
   */
  public static Selection forNode(
      Map<String, String> nodeLabels,
      Collection<LayerSet> allLayerSets,
      Collection<OverlayMount> allOverlayMounts,
      Set<String> held,
      VolumeUse volumes) {
    List<OverlayMount> liveMounts =
        allOverlayMounts.stream()
            .filter(om -> !isDeleting(om) && om.getSpec() != null)
            .filter(om -> om.getSpec().layerSetRef != null)
            .filter(om -> LabelSelectors.matches(om.getSpec().nodeSelector, nodeLabels))
            .toList();
    Set<String> inUse =
        liveMounts.stream().map(om -> om.getSpec().layerSetRef.name).collect(Collectors.toSet());
    Map<String, List<String>> requestedBy = new HashMap<>();
    for (LayerSet ls : allLayerSets) {
      if (ls.getSpec() == null) {
        continue;
      }
      String name = ls.getMetadata().getName();
      List<String> why = new ArrayList<>(2);
      if ((!isDeleting(ls) || inUse.contains(name))
          && LabelSelectors.matches(ls.getSpec().nodeSelector, nodeLabels)) {
        why.add(SELECTOR);
      }
      if (volumes.holds(name) || (volumes.asked().contains(name) && !isDeleting(ls))) {
        why.add(VOLUME);
      }
      if (!why.isEmpty()) {
        requestedBy.put(name, List.copyOf(why));
      }
    }
    List<LayerSet> wanted =
        allLayerSets.stream()
            .filter(ls -> requestedBy.containsKey(ls.getMetadata().getName()))
            .sorted(heldFirst(held))
            .toList();
    int served = Math.min(wanted.size(), NodeLayerState.MAX_ENTRIES);
    List<LayerSet> layerSets = new ArrayList<>(wanted.subList(0, served));
    layerSets.sort(BY_NAME);
    Set<String> names =
        layerSets.stream().map(ls -> ls.getMetadata().getName()).collect(Collectors.toSet());
    List<OverlayMount> overlayMounts =
        liveMounts.stream()
            .filter(om -> names.contains(om.getSpec().layerSetRef.name))
            .sorted(BY_NAME)
            .toList();
    requestedBy.keySet().retainAll(names);
    Map<String, Integer> counts = new HashMap<>(volumes.mounted());
    counts.keySet().retainAll(names);
    return new Selection(
        List.copyOf(layerSets),
        overlayMounts,
        List.copyOf(wanted.subList(served, wanted.size())),
        Map.copyOf(requestedBy),
        Map.copyOf(counts));
  }

  /** Held before first, then the oldest (RFC 3339 sorts as text), then by name. */
  private static Comparator<LayerSet> heldFirst(Set<String> held) {
    return Comparator.<LayerSet, Boolean>comparing(ls -> !held.contains(ls.getMetadata().getName()))
        .thenComparing(
            ls -> Objects.requireNonNullElse(ls.getMetadata().getCreationTimestamp(), ""))
        .thenComparing(ls -> ls.getMetadata().getName());
  }

  private static final Comparator<HasMetadata> BY_NAME =
      Comparator.comparing(o -> o.getMetadata().getName());

  private static boolean isDeleting(HasMetadata object) {
    return object.getMetadata().getDeletionTimestamp() != null;
  }
}
