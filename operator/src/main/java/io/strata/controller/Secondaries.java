package io.strata.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * Reads the reconcilers' secondary caches directly. JOSDK's {@code getSecondaryResources} answers
 * from an index its mappers build when a secondary changes, so a Node that existed before a
 * LayerSet was created would never be counted for it; the caches themselves are always complete.
 */
final class Secondaries {
  /** Objects per page of an informer's list: bounds what one response holds in memory. */
  static final long LIST_PAGE = 500;

  private Secondaries() {}

  static <P extends HasMetadata> InformerEventSource<Node, P> nodeSource(
      Class<P> primary, EventSourceContext<P> context) {
    return revisitingAll(Node.class, primary, context, CacheViews::node);
  }

  static <P extends HasMetadata> InformerEventSource<NodeLayerState, P> nodeLayerStateSource(
      Class<P> primary, EventSourceContext<P> context) {
    return revisitingAll(NodeLayerState.class, primary, context, CacheViews::nodeLayerState);
  }

  /**
   * An informer of {@code type} any change of which revisits every primary, whose cache keeps only
   * {@code view} of each object, and whose first list is read in pages.
   */
  private static <R extends HasMetadata, P extends HasMetadata>
      InformerEventSource<R, P> revisitingAll(
          Class<R> type, Class<P> primary, EventSourceContext<P> context, UnaryOperator<R> view) {
    return new InformerEventSource<>(
        InformerEventSourceConfiguration.from(type, primary)
            .withItemStore(CacheViews.store(view))
            .withInformerListLimit(LIST_PAGE)
            .withSecondaryToPrimaryMapper(
                changed ->
                    context
                        .getPrimaryCache()
                        .list()
                        .map(ResourceID::fromResource)
                        .collect(Collectors.toSet()))
            .build(),
        context);
  }

  static <P extends HasMetadata> List<Node> nodes(Context<P> context) {
    return informer(context, Node.class).list(node -> true).toList();
  }

  static <P extends HasMetadata> List<NodeLayerState> nodeLayerStates(Context<P> context) {
    return informer(context, NodeLayerState.class).list(state -> true).toList();
  }

  static <P extends HasMetadata> Optional<LayerSet> layerSet(Context<P> context, String name) {
    return informer(context, LayerSet.class).get(new ResourceID(name));
  }

  @SuppressWarnings("unchecked")
  private static <R extends HasMetadata, P extends HasMetadata> InformerEventSource<R, P> informer(
      Context<P> context, Class<R> type) {
    return (InformerEventSource<R, P>) context.eventSourceRetriever().getEventSourceFor(type);
  }
}
