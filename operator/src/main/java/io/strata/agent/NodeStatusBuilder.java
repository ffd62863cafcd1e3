package io.strata.agent;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.crd.AgentReason;
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
  /** Messages longer than this are cut: an entry stays small whatever a server answered. */
  static final int MAX_MESSAGE = 1000;

  private final Clock clock;

  public NodeStatusBuilder(Clock clock) {
    this.clock = clock;
  }

  /**
   * @param layerSets where each served LayerSet's work stands (missing: Pending)
   * @param mounts an entry per served OverlayMount, plus any still being torn down
   */
  public NodeLayerState.Status build(
      Selection selection,
      Map<String, LayerSetProgress> layerSets,
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
      LayerSetEntry entry = entry(layerSets.get(name(layerSet)));
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
      entry.reason = AgentReason.NodeLimit.name();
      entry.message =
          "this node serves at most "
              + NodeLayerState.MAX_ENTRIES
              + " LayerSets and keeps those it holds: narrow a selector or delete one it holds";
      LayerSetEntry old = oldLayerSets.get(entry.name);
      entry.lastTransitionTime =
          old != null && old.phase == entry.phase && AgentReason.NodeLimit.name().equals(old.reason)
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

  /** A served LayerSet's wire entry, from where its work stands (Pending when nothing yet). */
  static LayerSetEntry entry(LayerSetProgress progress) {
    LayerSetEntry entry = new LayerSetEntry();
    switch (progress == null ? new LayerSetProgress.Pending(null, null) : progress.stage()) {
      case LayerSetProgress.Pending pending -> {
        entry.phase = LayerSetPhase.Pending;
        entry.reason = pending.reason() == null ? null : pending.reason().name();
        entry.message = message(pending.message());
      }
      case LayerSetProgress.Fetching fetching -> {
        entry.phase = LayerSetPhase.Fetching;
        entry.fetchedBytes = fetching.fetchedBytes();
        entry.totalBytes = fetching.totalBytes();
      }
      case LayerSetProgress.Materializing materializing ->
          entry.phase = LayerSetPhase.Materializing;
      case LayerSetProgress.Ready ready -> {
        entry.phase = LayerSetPhase.Ready;
        entry.chainId = ready.made().chainId().toString();
        entry.root = ready.made().root().toString();
        entry.files = ready.made().files();
        entry.bytes = ready.made().bytes();
      }
      case LayerSetProgress.Failed failed -> {
        entry.phase = LayerSetPhase.Failed;
        entry.reason = failed.reason();
        entry.message = failedMessage(failed);
      }
    }
    return entry;
  }

  /** What failed, and when it is tried again (a fixed text, so a waiting node writes nothing). */
  private static String failedMessage(LayerSetProgress.Failed failed) {
    String message = message(failed.message());
    if (failed.retrying()) {
      return message + " (trying again now)";
    }
    return failed.retryIn() == null
        ? message
        : message + " (trying again in " + failed.retryIn().toSeconds() + "s)";
  }

  /** A message as the node reports it: URLs without credentials or queries, bounded. */
  private static String message(String message) {
    if (message == null) {
      return null;
    }
    String redacted = Redaction.urls(message);
    return redacted.length() <= MAX_MESSAGE ? redacted : redacted.substring(0, MAX_MESSAGE) + "...";
  }

  private static OverlayMountEntry copy(OverlayMountEntry from) {
    OverlayMountEntry entry =
        Serialization.jsonMapper().convertValue(from, OverlayMountEntry.class);
    entry.phase = Objects.requireNonNullElse(entry.phase, MountPhase.Pending);
    entry.message = message(entry.message);
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
