package io.strata.agent;

import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import io.strata.crd.NodeLayerState.MountPhase;
import io.strata.crd.NodeLayerState.OverlayMountEntry;
import io.strata.crd.OverlayMount;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Computes the node's whole NodeLayerState status from what it serves and what it last reported. An
 * entry keeps its phase and {@code lastTransitionTime} across rebuilds; a new entry starts Pending.
 * Entries appear in name order so an unchanged node yields an identical status (and no write).
 */
public final class NodeStatusBuilder {
  private final Clock clock;

  public NodeStatusBuilder(Clock clock) {
    this.clock = clock;
  }

  public NodeLayerState.Status build(Selection selection, NodeLayerState.Status previous) {
    Map<String, LayerSetEntry> oldLayerSets =
        previous == null ? Map.of() : byName(previous.layerSets, e -> e.name);
    Map<String, OverlayMountEntry> oldMounts =
        previous == null ? Map.of() : byName(previous.overlayMounts, e -> e.name);

    NodeLayerState.Status status = new NodeLayerState.Status();
    for (LayerSet layerSet : selection.layerSets()) {
      status.layerSets.add(layerSetEntry(layerSet, oldLayerSets.get(name(layerSet))));
    }
    for (OverlayMount mount : selection.overlayMounts()) {
      status.overlayMounts.add(mountEntry(mount, oldMounts.get(name(mount))));
    }
    status.summary = summarize(status.layerSets, status.overlayMounts);
    if (previous != null) {
      status.cache = previous.cache;
      status.agent = previous.agent;
    }
    return status;
  }

  private LayerSetEntry layerSetEntry(LayerSet layerSet, LayerSetEntry old) {
    LayerSetEntry entry = new LayerSetEntry();
    entry.name = name(layerSet);
    entry.observedGeneration = layerSet.getMetadata().getGeneration();
    entry.phase = old != null && old.phase != null ? old.phase : LayerSetPhase.Pending;
    entry.lastTransitionTime = old != null ? old.lastTransitionTime : now();
    return entry;
  }

  private OverlayMountEntry mountEntry(OverlayMount mount, OverlayMountEntry old) {
    OverlayMountEntry entry = new OverlayMountEntry();
    entry.name = name(mount);
    entry.observedGeneration = mount.getMetadata().getGeneration();
    entry.phase = old != null && old.phase != null ? old.phase : MountPhase.Pending;
    entry.lastTransitionTime = old != null ? old.lastTransitionTime : now();
    return entry;
  }

  static NodeLayerState.Summary summarize(
      List<LayerSetEntry> layerSets, List<OverlayMountEntry> mounts) {
    NodeLayerState.Summary summary = new NodeLayerState.Summary();
    summary.layerSets = layerSets.size();
    summary.overlayMounts = mounts.size();
    long ready =
        layerSets.stream().filter(e -> e.phase == LayerSetPhase.Ready).count()
            + mounts.stream().filter(e -> e.phase == MountPhase.Mounted).count();
    summary.ready = ready + "/" + (layerSets.size() + mounts.size());
    return summary;
  }

  private String now() {
    return Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString();
  }

  private static String name(io.fabric8.kubernetes.api.model.HasMetadata object) {
    return object.getMetadata().getName();
  }

  private static <E> Map<String, E> byName(List<E> entries, Function<E, String> name) {
    return entries == null
        ? Map.of()
        : entries.stream().collect(Collectors.toMap(name, e -> e, (a, b) -> a));
  }
}
