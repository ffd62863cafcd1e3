package io.strata.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.ReasonedException;
import io.strata.crd.AgentReason;
import io.strata.crd.LayerSet;
import io.strata.fetch.BlobFetcher;
import io.strata.fetch.FetchException;
import io.strata.layerstore.LayerStore;
import io.strata.layerstore.LayerStore.LayerSource;
import io.strata.layerstore.LayerStore.Materialized;
import io.strata.oci.Digest;
import io.strata.registry.Credentials;
import io.strata.registry.ImageReference;
import io.strata.registry.Platform;
import io.strata.registry.PullSecrets;
import io.strata.registry.RegistryClient;
import io.strata.tarapply.LayerException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches and materializes every LayerSet this node serves, a few at a time, off the status loop:
 * an image's layers are listed on two threads of their own, then each LayerSet's fetch waits for
 * one of {@code --concurrent-fetches} workers, its chain declared to the layer store from the
 * moment it is queued until its work ends or the node stops wanting it. It remembers only how far
 * each got; on a restart that is rebuilt from disk in moments, since fetched blobs and committed
 * roots are found again instead of being made twice.
 */
final class LayerSetWork implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LayerSetWork.class);

  /** Download progress wakes the status loop at most this often. */
  private static final long NOTICE_INTERVAL_NANOS = 1_000_000_000L;

  private final BlobFetcher fetcher;
  private final RegistryClient registry;
  private final PullSecrets pullSecrets;
  private final LayerStore store;
  private final LayerSetWorkers workers;
  private final AgentMetrics metrics;
  private final LongSupplier ticker;
  private final Runnable onChange;
  private final Map<String, LayerSetProgress> states = new ConcurrentHashMap<>();

  /** Each queued or running fetch's declaration to the layer store, by LayerSet. */
  private final Map<String, LayerStore.Interest> declared = new ConcurrentHashMap<>();

  /** The blobs of each LayerSet's chain, base first, once known (an image's once listed). */
  private final Map<String, List<Digest>> chains = new ConcurrentHashMap<>();

  private volatile long lastNotice;

  /**
   * @param ticker nanoseconds, as {@link System#nanoTime()}: back-off and durations
   * @param onChange asks the status loop for a pass: a LayerSet moved, or a retry is due
   */
  LayerSetWork(
      BlobFetcher fetcher,
      RegistryClient registry,
      PullSecrets pullSecrets,
      LayerStore store,
      LayerSetWorkers workers,
      AgentMetrics metrics,
      LongSupplier ticker,
      Runnable onChange) {
    this.fetcher = fetcher;
    this.registry = registry;
    this.pullSecrets = pullSecrets;
    this.store = store;
    this.workers = workers;
    this.metrics = metrics;
    this.ticker = ticker;
    this.onChange = onChange;
  }

  /**
   * Where {@code layerSet} stands; starts the work when what it asks for is new to this node, or
   * when a failure that may pass has waited out its back-off. {@code platform} picks the manifest
   * from an image index.
   */
  LayerSetProgress ensure(LayerSet layerSet, Platform platform) {
    String name = layerSet.getMetadata().getName();
    LayerSet.Spec wanted = layerSet.getSpec();
    ImagePin pin = wanted.image == null ? null : ImagePin.of(layerSet);
    String spec = specKey(wanted, pin, platform);
    LayerSetProgress state = states.get(name);
    boolean sameSpec = state != null && state.isFor(spec);
    if (sameSpec && !state.dueForRetry(ticker.getAsLong())) {
      return state;
    }
    LayerSetProgress first;
    if (sameSpec) {
      log.info("LayerSet {}: trying again after {} failure(s)", name, state.failures());
      first = state.retrying();
    } else {
      first =
          LayerSetProgress.start(
              spec,
              switch (pin) {
                case ImagePin.Waiting waiting ->
                    new LayerSetProgress.Pending(
                        AgentReason.WaitingForResolvedImage, waiting.message());
                case ImagePin.Refused refused ->
                    new LayerSetProgress.Failed(refused.reason(), refused.message(), null, false);
                case null, default -> new LayerSetProgress.Pending(null, null);
              });
    }
    states.put(name, first);
    withdraw(name); // work queued for an earlier spec no longer speaks for this LayerSet
    if (pin instanceof ImagePin.Pinned pinned) {
      // Listing the layers asks the registry: off the status loop, and not behind the fetches.
      workers.list(
          () ->
              attempt(
                  name,
                  spec,
                  () -> queue(name, spec, imageBlobs(pinned.image(), wanted, platform))));
    } else if (pin == null) {
      queue(name, spec, urlBlobs(wanted.layers));
    }
    return first;
  }

  /**
   * Queues the fetch for a worker, the chain declared from now on: LayerSets built before this one
   * that share its base publish that base for it, even while it waits for a worker.
   */
  private void queue(String name, String spec, List<Blob> blobs) {
    List<Digest> chain = blobs.stream().map(Blob::digest).toList();
    if (stillWanted(name, spec)) {
      chains.put(name, chain);
    }
    LayerStore.Interest interest = store.want(chain);
    LayerStore.Interest earlier = declared.put(name, interest);
    if (earlier != null) {
      earlier.close();
    }
    workers.build(
        () -> {
          try (interest) {
            attempt(name, spec, () -> fetchAndMaterialize(name, spec, blobs));
          } finally {
            declared.remove(name, interest);
          }
        });
  }

  /**
   * Removes the fetched blobs and partial downloads no LayerSet on this node still needs: a Ready
   * LayerSet's root holds its layers, so only the blobs of LayerSets not Ready stay (a Failed one
   * is tried again). Does nothing while a listing or fetch is queued or running; work starts only
   * from the status loop, which calls this, so none can start meanwhile.
   */
  void removeUnneededBlobs() throws IOException {
    if (workers.busy()) {
      return;
    }
    Set<Digest> needed = new HashSet<>();
    states.forEach(
        (name, state) -> {
          if (!state.isReady()) {
            needed.addAll(chains.getOrDefault(name, List.of()));
          }
        });
    for (Digest removed : fetcher.removeAllBut(needed)) {
      log.info("removed blob {}: no LayerSet on this node still needs it", removed);
    }
  }

  /** Withdraws the declaration of {@code name}'s queued or running work, if it has one. */
  private void withdraw(String name) {
    LayerStore.Interest interest = declared.remove(name);
    if (interest != null) {
      interest.close();
    }
  }

  /**
   * Whether the node still wants {@code name} as {@code spec}: work queued for a spec changed
   * since, or for a LayerSet the node no longer serves, is dropped before it fetches anything.
   */
  private boolean stillWanted(String name, String spec) {
    LayerSetProgress state = states.get(name);
    return state != null && state.isFor(spec);
  }

  /**
   * Drops what is known about LayerSets this node no longer serves, and their declarations: a fetch
   * still waiting for a worker no longer makes other builds publish roots for it.
   */
  void retainOnly(Set<String> names) {
    states.keySet().retainAll(names);
    chains.keySet().retainAll(names);
    for (String name : List.copyOf(declared.keySet())) {
      if (!names.contains(name)) {
        withdraw(name);
      }
    }
  }

  /**
   * One layer blob to bring onto the node, and how; {@code diffId}, where the image's config lists
   * one, is checked when the layer is applied.
   */
  private record Blob(Digest digest, String mediaType, Digest diffId, Fetch fetch) {}

  private interface Fetch {
    Path fetch(BlobFetcher.Progress progress) throws Exception;
  }

  private interface Step {
    void run() throws Exception;
  }

  private List<Blob> urlBlobs(List<LayerSet.Layer> layers) {
    List<Blob> blobs = new ArrayList<>();
    for (LayerSet.Layer layer : layers) {
      Digest digest = Digest.parse(layer.digest);
      blobs.add(
          new Blob(
              digest,
              layer.mediaType,
              null,
              progress ->
                  fetcher.fetch(
                      layer.url, digest, layer.size == null ? -1 : layer.size, progress)));
    }
    return blobs;
  }

  private List<Blob> imageBlobs(ImageReference image, LayerSet.Spec wanted, Platform platform)
      throws FetchException, InterruptedException {
    Credentials credentials = pullSecrets.credentials(wanted.pullSecretRef);
    List<Blob> blobs = new ArrayList<>();
    for (RegistryClient.Layer layer : registry.layers(image, platform, credentials)) {
      blobs.add(
          new Blob(
              layer.digest(),
              layer.mediaType(),
              layer.diffId(),
              progress ->
                  fetcher.fetch(
                      registry.origins(image, layer.digest(), credentials),
                      layer.digest(),
                      layer.size(),
                      progress)));
    }
    return blobs;
  }

  /**
   * Runs one step of a LayerSet's work, if the node still wants it as {@code spec}; a failure fails
   * the LayerSet, with its reason.
   */
  private void attempt(String name, String spec, Step step) {
    if (!stillWanted(name, spec)) {
      return;
    }
    try {
      step.run();
    } catch (ReasonedException e) {
      log.warn("LayerSet {} failed: {}: {}", name, e.reason(), e.getMessage());
      fail(name, spec, e.reason(), e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.warn("LayerSet {} failed", name, e);
      fail(name, spec, LayerException.Reason.IOError, String.valueOf(e.getMessage()));
    }
  }

  /** Reports a failure and, when it may pass, asks for the pass that tries it again. */
  private void fail(String name, String spec, Enum<?> reason, String message) {
    LayerSetProgress failed =
        states.computeIfPresent(
            name, (n, s) -> s.isFor(spec) ? s.failed(reason, message, ticker.getAsLong()) : s);
    if (failed != null
        && failed.isFor(spec)
        && failed.stage() instanceof LayerSetProgress.Failed f
        && f.retryIn() != null) {
      workers.after(f.retryIn(), onChange);
    }
    onChange.run();
  }

  /**
   * Fetches each blob, then materializes the chain, reporting each phase; a chain whose root this
   * node already holds needs neither.
   */
  private void fetchAndMaterialize(String name, String spec, List<Blob> blobs) throws Exception {
    Materialized held = store.lookup(blobs.stream().map(Blob::digest).toList());
    if (held != null && listedDiffIdsMatch(blobs, held)) {
      ready(name, spec, held);
      return;
    }
    List<LayerSource> sources = new ArrayList<>();
    long fetched = 0;
    for (Blob layer : blobs) {
      long before = fetched;
      long started = ticker.getAsLong();
      long[] downloaded = {0};
      Path file =
          layer
              .fetch()
              .fetch(
                  (done, total) -> {
                    metrics.fetchedBytes.increment(done - downloaded[0]); // real downloads only
                    downloaded[0] = done;
                    update(
                        name,
                        spec,
                        s -> s.fetching(before + done, total < 0 ? null : before + total));
                  });
      fetched = before + Files.size(file);
      metrics.fetch.record(ticker.getAsLong() - started, TimeUnit.NANOSECONDS);
      sources.add(new LayerSource(file, layer.digest(), layer.mediaType(), layer.diffId()));
    }
    update(name, spec, LayerSetProgress::materializing);
    long started = ticker.getAsLong();
    Materialized made;
    try {
      made = store.materialize(sources);
    } catch (LayerException e) {
      if (e.reason() == LayerException.Reason.DigestMismatch) {
        discardCorrupt(sources);
      }
      throw e;
    }
    metrics.materialize.record(ticker.getAsLong() - started, TimeUnit.NANOSECONDS);
    ready(name, spec, made);
  }

  /** Whether every diffID an image's config lists is the one recorded for its blob. */
  private static boolean listedDiffIdsMatch(List<Blob> blobs, Materialized held) {
    for (int i = 0; i < blobs.size(); i++) {
      Digest listed = blobs.get(i).diffId();
      if (listed != null && !listed.equals(held.diffIds().get(i))) {
        return false; // materializing reports the mismatch
      }
    }
    return true;
  }

  private void ready(String name, String spec, Materialized made) {
    update(name, spec, s -> s.ready(made));
    log.info("LayerSet {} is ready: {} at {}", name, made.chainId(), made.root());
  }

  /**
   * A blob in the cache that no longer has its digest is removed, so the retry fetches it again
   * instead of failing the same way for good. Blobs outside the cache ({@code file://} layers) are
   * the user's and stay.
   */
  private void discardCorrupt(List<LayerSource> sources) throws IOException {
    for (LayerSource source : sources) {
      if (source.digest() != null && fetcher.discardIfCorrupt(source.digest())) {
        log.warn("removed the node's copy of {}: it no longer has that digest", source.digest());
      }
    }
  }

  /**
   * Moves {@code name} on, only while the spec it was for is still the one wanted; download
   * progress wakes the status loop at most once a second, so a big fetch is not a storm of writes.
   */
  private void update(String name, String spec, UnaryOperator<LayerSetProgress> next) {
    LayerSetProgress now =
        states.computeIfPresent(name, (n, s) -> s.isFor(spec) ? next.apply(s) : s);
    long tick = ticker.getAsLong();
    boolean downloading = now != null && now.stage() instanceof LayerSetProgress.Fetching;
    if (!downloading || tick - lastNotice > NOTICE_INTERVAL_NANOS) {
      lastNotice = tick;
      onChange.run();
    }
  }

  /** What the work depends on: the layers, or the image as pinned, its secret and platform. */
  private static String specKey(LayerSet.Spec spec, ImagePin pin, Platform platform) {
    try {
      return Serialization.jsonMapper()
          .writeValueAsString(
              new Object[] {
                spec.layers,
                spec.image,
                String.valueOf(pin),
                spec.pullSecretRef == null ? null : spec.pullSecretRef.name,
                spec.image == null ? null : platform.toString()
              });
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    workers.close();
  }
}
