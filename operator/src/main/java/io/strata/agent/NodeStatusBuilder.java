package io.strata.agent;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import io.strata.crd.NodeLayerState.MountPhase;
import io.strata.crd.NodeLayerState.OverlayMountEntry;
import io.strata.kube.Redaction;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Computes the node's whole NodeLayerState status from what it serves, where each thing stands, and
 * what it last reported. {@code lastTransitionTime} moves only when an entry's phase does; entries
 * appear in name order, so an unchanged node yields an identical status (and no write).
 */
public final class NodeStatusBuilder {
  /** The reason of a LayerSet past the node's bound. */
  public static final String NODE_LIMIT = "NodeLimit";

  private final Clock clock;

  public NodeStatusBuilder(Clock clock) {
    this.clock = clock;
  }

  /**
   * @param layerSets where each served LayerSet stands (missing: Pending)
   * @param mounts an entry per served OverlayMount, plus any still being torn down
   */
  public NodeLayerState.Status build(
      Selection selection,
      Map<String, LayerSetEntry> layerSets,
      List<OverlayMountEntry> mounts,
      NodeLayerState.Status previous) {
    Map<String, LayerSetEntry> oldLayerSets =
        previous == null ? Map.of() : byName(previous.layerSets, e -> e.name);
    Map<String, OverlayMountEntry> oldMounts =
        previous == null ? Map.of() : byName(previous.overlayMounts, e -> e.name);
    Map<String, Long> mountGenerations =
        selection.overlayMounts().stream()
            .collect(
                Collectors.toMap(NodeStatusBuilder::name, m -> m.getMetadata().getGeneration()));

    NodeLayerState.Status status = new NodeLayerState.Status();
    for (LayerSet layerSet : selection.layerSets()) {
      LayerSetEntry entry = copy(layerSets.get(name(layerSet)));
      entry.name = name(layerSet);
      entry.observedGeneration = layerSet.getMetadata().getGeneration();
      entry.requestedBy = selection.requestedBy().get(entry.name);
      entry.volumes = selection.volumes().get(entry.name);
      LayerSetEntry old = oldLayerSets.get(entry.name);
      entry.lastTransitionTime =
          old != null && old.phase == entry.phase ? old.lastTransitionTime : now();
      status.layerSets.add(entry);
    }
    for (LayerSet layerSet :
        selection.refused().stream().limit(NodeLayerState.MAX_REFUSED_ENTRIES).toList()) {
      LayerSetEntry entry = new LayerSetEntry();
      entry.name = name(layerSet);
      entry.observedGeneration = layerSet.getMetadata().getGeneration();
      entry.phase = LayerSetPhase.Failed;
      entry.reason = NODE_LIMIT;
      entry.message =
          "this node serves at most "
              + NodeLayerState.MAX_ENTRIES
              + " LayerSets and keeps those it holds: narrow a selector or delete one it holds";
      LayerSetEntry old = oldLayerSets.get(entry.name);
      entry.lastTransitionTime =
          old != null && old.phase == entry.phase && NODE_LIMIT.equals(old.reason)
              ? old.lastTransitionTime
              : now();
      status.layerSets.add(entry);
    }
    status.layerSets.sort(Comparator.comparing(e -> e.name));
    for (OverlayMountEntry mount : mounts) {
      OverlayMountEntry entry = copy(mount);
      entry.observedGeneration = mountGenerations.get(entry.name);
      OverlayMountEntry old = oldMounts.get(entry.name);
      entry.lastTransitionTime =
          old != null && old.phase == entry.phase ? old.lastTransitionTime : now();
      status.overlayMounts.add(entry);
    }
    status.overlayMounts.sort(Comparator.comparing(e -> e.name));
    status.summary = summarize(status.layerSets, status.overlayMounts);
    if (previous != null) {
      status.cache = previous.cache;
      status.agent = previous.agent;
    }
    return status;
  }

  /** A served LayerSet's entry: a copy of where its work stands (Pending when nothing yet). */
  private static LayerSetEntry copy(LayerSetEntry from) {
    LayerSetEntry entry =
        from == null
            ? new LayerSetEntry()
            : Serialization.jsonMapper().convertValue(from, LayerSetEntry.class);
    entry.phase = Objects.requireNonNullElse(entry.phase, LayerSetPhase.Pending);
    entry.message = Redaction.urls(entry.message);
    return entry;
  }

  private static OverlayMountEntry copy(OverlayMountEntry from) {
    OverlayMountEntry entry =
        Serialization.jsonMapper().convertValue(from, OverlayMountEntry.class);
    entry.phase = Objects.requireNonNullElse(entry.phase, MountPhase.Pending);
    entry.message = Redaction.urls(entry.message);
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

  private static String name(HasMetadata object) {
    return object.getMetadata().getName();
  }

  private static <E> Map<String, E> byName(List<E> entries, Function<E, String> name) {
    return entries == null
        ? Map.of()
        : entries.stream().collect(Collectors.toMap(name, e -> e, (a, b) -> a));
  }
}
