package io.strata.controller;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.strata.controller.StatusAggregator.NodeReport;
import io.strata.controller.StatusAggregator.Summary;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.OverlayMount;
import io.strata.crd.StrataApi;
import io.strata.fetch.FetchException;
import io.strata.kube.EventRecorder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/** Writes each LayerSet's status summary; any Node change revisits every LayerSet. */
@ControllerConfiguration(
    name = LayerSetReconciler.NAME,
    finalizerName = StrataApi.TEARDOWN_FINALIZER)
public class LayerSetReconciler implements Reconciler<LayerSet>, Cleaner<LayerSet> {
  static final String NAME = "strata-layerset";

  /** How soon a tag that could not be resolved is tried again. */
  static final Duration RESOLVE_RETRY = Duration.ofSeconds(30);

  private final Clock clock;
  private final StatusAggregator aggregator;
  private final Teardown teardown;
  private final NodeLabels labels;
  private final ImageResolver images;
  private final EventRecorder events;
  private final ObjectMetrics metrics;

  LayerSetReconciler(
      Clock clock,
      Teardown teardown,
      NodeLabels labels,
      ImageResolver images,
      EventRecorder events,
      ObjectMetrics metrics) {
    this.clock = clock;
    this.aggregator = new StatusAggregator(clock, NeedsChange.LAYER_SET);
    this.teardown = teardown;
    this.labels = labels;
    this.images = images;
    this.events = events;
    this.metrics = metrics;
  }

  /**
   * Deleted: waits while an OverlayMount still uses the LayerSet, then until no live selected node
   * lists it (unless {@code deletionPolicy: Orphan}); its node label goes with it.
   */
  @Override
  public DeleteControl cleanup(LayerSet layerSet, Context<LayerSet> context) {
    String name = layerSet.getMetadata().getName();
    Optional<String> inUse =
        deletionWaitsFor(
            name,
            context.getClient().resources(OverlayMount.class).list().getItems(),
            Secondaries.nodeLayerStates(context));
    if (inUse.isPresent()) {
      if (markInUse(context, layerSet, inUse.get())) {
        events.warning(layerSet, ControllerReason.InUse.name(), "deletion waits: " + inUse.get());
      }
      return DeleteControl.noFinalizerRemoval().rescheduleAfter(Duration.ofSeconds(10));
    }
    Optional<DeleteControl> waiting =
        teardown.waitForNodes(
            context,
            layerSet.getSpec().deletionPolicy,
            status -> status.layerSets.stream().map(e -> e.name).collect(Collectors.toSet()),
            name);
    if (waiting.isPresent()) {
      return waiting.get();
    }
    labels.want(
        Secondaries.nodes(context), StrataApi.LAYERSET_LABEL_PREFIX + name, "ready", Set.of());
    metrics.remove(name);
    events.normal(
        layerSet,
        ControllerReason.TornDown.name(),
        Teardown.tornDown(layerSet.getSpec().deletionPolicy));
    return DeleteControl.defaultDelete();
  }

  /**
   * Why the deletion of LayerSet {@code name} must wait, if it must: an OverlayMount still refers
   * to it (its lower would go), or pods on some nodes still have volumes of it.
   */
  static Optional<String> deletionWaitsFor(
      String name, Collection<OverlayMount> mounts, Collection<NodeLayerState> states) {
    boolean mounted =
        mounts.stream()
            .anyMatch(
                om ->
                    om.getSpec() != null
                        && om.getSpec().layerSetRef != null
                        && name.equals(om.getSpec().layerSetRef.name));
    if (mounted) {
      return Optional.of("an OverlayMount still uses this LayerSet; delete it first");
    }
    List<String> volumeNodes = volumeNodes(states, name);
    if (!volumeNodes.isEmpty()) {
      return Optional.of(
          "pod volumes on "
              + volumeNodes.size()
              + " nodes (first "
              + volumeNodes.getFirst()
              + ") still use this LayerSet; it goes when their pods end");
    }
    return Optional.empty();
  }

  /** Nodes whose pod volumes use LayerSet {@code name}, by name. */
  private static List<String> volumeNodes(Collection<NodeLayerState> states, String name) {
    return states.stream()
        .filter(
            s ->
                s.getStatus() != null
                    && s.getStatus().layerSets.stream()
                        .anyMatch(e -> name.equals(e.name) && e.volumes != null && e.volumes > 0))
        .map(s -> s.getMetadata().getName())
        .sorted()
        .toList();
  }

  /**
   * Says on the LayerSet why its deletion waits: condition {@code Deleting=False, InUse}; true when
   * it was not said yet.
   */
  private boolean markInUse(Context<LayerSet> context, LayerSet layerSet, String why) {
    LayerSet.Status status =
        layerSet.getStatus() == null ? new LayerSet.Status() : layerSet.getStatus();
    boolean already =
        status.conditions.stream()
            .anyMatch(
                c ->
                    StrataApi.DELETING_CONDITION.equals(c.getType())
                        && ControllerReason.InUse.name().equals(c.getReason())
                        && why.equals(c.getMessage()));
    if (already) {
      return false;
    }
    List<Condition> conditions = new ArrayList<>(status.conditions);
    conditions.removeIf(c -> StrataApi.DELETING_CONDITION.equals(c.getType()));
    conditions.add(
        new ConditionBuilder()
            .withType(StrataApi.DELETING_CONDITION)
            .withStatus("False")
            .withReason(ControllerReason.InUse.name())
            .withMessage(why)
            .withObservedGeneration(layerSet.getMetadata().getGeneration())
            .withLastTransitionTime(Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString())
            .build());
    status.conditions = conditions;
    LayerSet patch = new LayerSet();
    patch.getMetadata().setName(layerSet.getMetadata().getName());
    patch.setStatus(status);
    io.strata.kube.Apply.status(context.getClient(), NAME, patch);
    return true;
  }

  @Override
  public List<EventSource<?, LayerSet>> prepareEventSources(EventSourceContext<LayerSet> context) {
    return List.of(
        Secondaries.nodeSource(LayerSet.class, context),
        Secondaries.nodeLayerStateSource(LayerSet.class, context));
  }

  @Override
  public UpdateControl<LayerSet> reconcile(LayerSet layerSet, Context<LayerSet> context) {
    String name = layerSet.getMetadata().getName();
    List<Node> nodes = Secondaries.nodes(context); // once per pass: thousands at scale
    Folded<LayerSet.Status> folded = fold(layerSet, nodes, Secondaries.nodeLayerStates(context));
    labels.want(nodes, StrataApi.LAYERSET_LABEL_PREFIX + name, "ready", folded.readyNodes());
    LayerSet.Status previous = layerSet.getStatus();
    LayerSet.Status status = folded.status();
    metrics.set(name, status);
    boolean retry = false;
    if (layerSet.getSpec().image != null) {
      retry = !resolveImage(layerSet, previous, status);
    }
    ConditionEvents.record(
        events, layerSet, previous == null ? null : previous.conditions, status.conditions);
    if (Summaries.same(previous, status)) {
      return retry
          ? UpdateControl.<LayerSet>noUpdate().rescheduleAfter(RESOLVE_RETRY)
          : UpdateControl.noUpdate();
    }
    LayerSet patch = new LayerSet();
    patch.getMetadata().setName(name);
    patch.setStatus(status);
    UpdateControl<LayerSet> update = UpdateControl.patchStatus(patch);
    return retry ? update.rescheduleAfter(RESOLVE_RETRY) : update;
  }

  /**
   * What a pass makes of {@code layerSet} from the Nodes and their NodeLayerStates: its status (the
   * image's resolution aside) and the nodes to label ready.
   */
  Folded<LayerSet.Status> fold(LayerSet layerSet, List<Node> nodes, List<NodeLayerState> states) {
    String name = layerSet.getMetadata().getName();
    long generation = layerSet.getMetadata().getGeneration();
    List<String> desired = NodeCounts.matching(nodes, layerSet.getSpec().nodeSelector);
    Map<String, NodeReport> reports = Summaries.reports(states, Summaries.layerSetReport(name));
    LayerSet.Status previous = layerSet.getStatus();
    Summary summary =
        aggregator.fold(
            desired, reports, "Ready", generation, previous == null ? null : previous.conditions);
    LayerSet.Status status = new LayerSet.Status();
    Summaries.fill(status, summary, generation);
    status.chainId = summary.chainId();
    // From the reports just folded: thousands of nodes are not walked a second time.
    long volumeNodes = reports.values().stream().filter(r -> r.volumes() > 0).count();
    status.volumeNodes = volumeNodes > 0 ? (int) volumeNodes : null;
    Progress progress = Progress.of(desired, reports, generation);
    status.progress = progress.text();
    status.fetchingNodes = progress.fetching() > 0 ? progress.fetching() : null;
    status.materializingNodes = progress.materializing() > 0 ? progress.materializing() : null;
    status.fetchedBytes = progress.fetching() > 0 ? progress.fetchedBytes() : null;
    status.totalBytes = progress.totalBytes();
    return new Folded<>(status, Set.copyOf(summary.readyNodes()));
  }

  /**
   * Sets {@code status.resolvedImage} and the {@code Resolved} condition: kept as they are once
   * this generation is resolved, so a tag that moves later changes nothing until the spec does;
   * otherwise asked of the registry. False when it could not be resolved (and is tried again).
   */
  private boolean resolveImage(
      LayerSet layerSet, LayerSet.Status previous, LayerSet.Status status) {
    long generation = layerSet.getMetadata().getGeneration();
    List<Condition> before = previous == null ? List.of() : previous.conditions;
    status.conditions = new ArrayList<>(status.conditions);
    if (previous != null
        && previous.resolvedImage != null
        && Long.valueOf(generation).equals(previous.observedGeneration)) {
      status.resolvedImage = previous.resolvedImage;
      before.stream()
          .filter(c -> StrataApi.RESOLVED_CONDITION.equals(c.getType()))
          .findFirst()
          .ifPresent(status.conditions::add);
      return true;
    }
    String image = layerSet.getSpec().image;
    try {
      status.resolvedImage = images.resolve(layerSet.getSpec()).toString();
      status.conditions.add(
          aggregator.condition(
              before,
              StrataApi.RESOLVED_CONDITION,
              true,
              ControllerReason.Resolved.name(),
              image + " is " + status.resolvedImage,
              generation));
      events.normal(
          layerSet,
          ControllerReason.Resolved.name(),
          image + " resolved to " + status.resolvedImage);
      return true;
    } catch (FetchException e) {
      status.resolvedImage = null;
      status.conditions.add(
          aggregator.condition(
              before,
              StrataApi.RESOLVED_CONDITION,
              false,
              e.reason().name(),
              e.getMessage(),
              generation));
      events.warning(layerSet, e.reason().name(), "resolving " + image + ": " + e.getMessage());
      if (NeedsChange.imageNeedsChange(e.reason())) {
        // Nodes wait for a digest that will never come: only a new spec.image gets past this.
        status.conditions.removeIf(
            c ->
                StatusAggregator.RECONCILING.equals(c.getType())
                    || StatusAggregator.STALLED.equals(c.getType()));
        status.conditions.add(
            aggregator.condition(
                before,
                StatusAggregator.RECONCILING,
                false,
                ControllerReason.Settled.name(),
                "stalled: see Stalled",
                generation));
        status.conditions.add(
            aggregator.condition(
                before,
                StatusAggregator.STALLED,
                true,
                e.reason().name(),
                "resolving " + image + ": " + e.getMessage(),
                generation));
      }
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while resolving " + image, e);
    }
  }
}
