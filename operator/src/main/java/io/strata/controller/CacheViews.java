package io.strata.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import io.strata.crd.NodeLayerState;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * What the controller keeps of each Node and NodeLayerState in its informer caches: only the fields
 * it reads. A real Node carries kilobytes of status (images, conditions) and every NodeLayerState
 * carries one entry per LayerSet with paths, sizes, timestamps and managed fields; thousands of
 * nodes kept whole do not fit the controller's memory. Events still see whole objects; only the
 * cache is pruned.
 */
final class CacheViews {
  private CacheViews() {}

  /** A Node's name, identity, version and labels: what selectors and label writes need. */
  static Node node(Node full) {
    Node kept = new Node();
    kept.setMetadata(identity(full.getMetadata()));
    kept.getMetadata().setLabels(full.getMetadata().getLabels());
    return kept;
  }

  /**
   * Per entry: name, generation seen, phase, reason, chain ID and pod volume count; the message
   * only where a failure is reported with it (it is what {@code failedNodes} shows).
   */
  static NodeLayerState nodeLayerState(NodeLayerState full) {
    NodeLayerState kept = new NodeLayerState();
    kept.setMetadata(identity(full.getMetadata()));
    NodeLayerState.Status status = full.getStatus();
    if (status == null) {
      return kept;
    }
    NodeLayerState.Status small = new NodeLayerState.Status();
    small.layerSets = new ArrayList<>(size(status.layerSets));
    for (NodeLayerState.LayerSetEntry e : list(status.layerSets)) {
      NodeLayerState.LayerSetEntry k = new NodeLayerState.LayerSetEntry();
      keep(e, k, e.phase == NodeLayerState.LayerSetPhase.Failed);
      k.phase = e.phase;
      k.chainId = intern(e.chainId);
      k.volumes = e.volumes; // status.volumeNodes and the InUse wait
      small.layerSets.add(k);
    }
    small.overlayMounts = new ArrayList<>(size(status.overlayMounts));
    for (NodeLayerState.OverlayMountEntry e : list(status.overlayMounts)) {
      NodeLayerState.OverlayMountEntry k = new NodeLayerState.OverlayMountEntry();
      keep(e, k, e.phase == NodeLayerState.MountPhase.Failed);
      k.phase = e.phase;
      small.overlayMounts.add(k);
    }
    kept.setStatus(small);
    return kept;
  }

  /** An informer store that keeps {@code view} of each object instead of the object. */
  static <R extends HasMetadata> ItemStore<R> store(UnaryOperator<R> view) {
    return new Pruned<>(view);
  }

  private static ObjectMeta identity(ObjectMeta full) {
    ObjectMeta meta = new ObjectMeta();
    meta.setName(full.getName());
    meta.setUid(full.getUid());
    meta.setResourceVersion(full.getResourceVersion());
    meta.setGeneration(full.getGeneration());
    return meta;
  }

  private static void keep(NodeLayerState.Entry from, NodeLayerState.Entry to, boolean failed) {
    to.name = intern(from.name);
    to.observedGeneration = from.observedGeneration;
    to.reason = intern(from.reason);
    to.message = failed ? from.message : null;
  }

  // Names, reasons and chain IDs repeat on every node: one copy each instead of thousands.
  private static String intern(String s) {
    return s == null ? null : s.intern();
  }

  private static <T> List<T> list(List<T> entries) {
    return entries == null ? List.of() : entries;
  }

  private static int size(List<?> entries) {
    return entries == null ? 0 : entries.size();
  }

  private static final class Pruned<R extends HasMetadata> implements ItemStore<R> {
    private final BasicItemStore<R> items = new BasicItemStore<>(Cache::metaNamespaceKeyFunc);
    private final UnaryOperator<R> view;

    Pruned(UnaryOperator<R> view) {
      this.view = view;
    }

    @Override
    public String getKey(R object) {
      return items.getKey(object);
    }

    @Override
    public R put(String key, R object) {
      return items.put(key, view.apply(object));
    }

    @Override
    public R remove(String key) {
      return items.remove(key);
    }

    @Override
    public Stream<String> keySet() {
      return items.keySet();
    }

    @Override
    public Stream<R> values() {
      return items.values();
    }

    @Override
    public int size() {
      return items.size();
    }

    @Override
    public R get(String key) {
      return items.get(key);
    }
  }
}
