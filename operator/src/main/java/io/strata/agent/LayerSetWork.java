package io.strata.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.ReasonedException;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.LayerSetPhase;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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

  /**
   * Where one LayerSet stands on this node, for the spec it was asked with: its entry, how many
   * times in a row its work has failed, and when (System.nanoTime) it may be tried again; 0 for
   * never, until the spec changes.
   */
  record State(String spec, LayerSetEntry entry, int failures, long retryAt) {
    boolean dueForRetry(long now) {
      return entry.phase == LayerSetPhase.Failed && retryAt != 0 && now - retryAt >= 0;
    }
  }

  /**
   * Failures that may pass while the spec stays the same (a server down or not yet holding the
   * blob, a secret created or fixed later, a full disk the collector frees): tried again after 10
   * s, then twice as long each time up to 5 minutes, as the kubelet backs off image pulls. A layer
   * whose pinned bytes are refused fails the same way every time and is not tried again.
   */
  static final Set<Enum<?>> RETRIED =
      Set.of(
          FetchException.Reason.Unreachable,
          FetchException.Reason.NotFound,
          FetchException.Reason.Unauthorized,
          FetchException.Reason.InvalidPullSecret,
          FetchException.Reason.DigestMismatch,
          FetchException.Reason.NoSpace,
          FetchException.Reason.IOError,
          LayerException.Reason.DigestMismatch,
          LayerException.Reason.NoSpace,
          LayerException.Reason.IOError);

  static final Duration FIRST_RETRY = Duration.ofSeconds(10);
  static final Duration LONGEST_RETRY = Duration.ofMinutes(5);

  /** How long to wait after the {@code failures}-th failure in a row. */
  static Duration backoff(int failures) {
    Duration wait = FIRST_RETRY;
    for (int i = 1; i < failures && wait.compareTo(LONGEST_RETRY) < 0; i++) {
      wait = wait.multipliedBy(2);
    }
    return wait.compareTo(LONGEST_RETRY) < 0 ? wait : LONGEST_RETRY;
  }

  private final AgentMetrics metrics;
  private final BlobFetcher fetcher;
  private final RegistryClient registry;
  private final PullSecrets pullSecrets;
  private final LayerStore store;
  private final Runnable onChange;
  private final ExecutorService pool;
  private final ExecutorService listing =
      Executors.newFixedThreadPool(
          2, r -> Thread.ofPlatform().name("layerset-list").daemon().unstarted(r));
  private final ScheduledExecutorService retries =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().name("layerset-retry").daemon().unstarted(r));
  private final Map<String, State> states = new ConcurrentHashMap<>();

  /** Each queued or running fetch's declaration to the layer store, by LayerSet. */
  private final Map<String, LayerStore.Interest> declared = new ConcurrentHashMap<>();

  /** The blobs of each LayerSet's chain, base first, once known (an image's once listed). */
  private final Map<String, List<Digest>> chains = new ConcurrentHashMap<>();

  /** Listings and fetches submitted and not yet finished. */
  private final AtomicInteger busy = new AtomicInteger();

  LayerSetWork(
      BlobFetcher fetcher,
      RegistryClient registry,
      PullSecrets pullSecrets,
      LayerStore store,
      int workers,
      AgentMetrics metrics,
      Runnable onChange) {
    this.metrics = metrics;
    this.fetcher = fetcher;
    this.registry = registry;
    this.pullSecrets = pullSecrets;
    this.store = store;
    this.onChange = onChange;
    this.pool =
        Executors.newFixedThreadPool(
            workers, r -> Thread.ofPlatform().name("layerset-work").daemon().unstarted(r));
  }

  /**
   * Where {@code layerSet} stands; starts the work when what it asks for is new to this node.
   * {@code platform} picks the manifest from an image index.
   */
  LayerSetEntry ensure(LayerSet layerSet, Platform platform) {
    String name = layerSet.getMetadata().getName();
    LayerSet.Spec wanted = layerSet.getSpec();
    ImagePin pin = wanted.image == null ? null : ImagePin.of(layerSet);
    String spec = specKey(wanted, pin, platform);
    State state = states.get(name);
    boolean sameSpec = state != null && state.spec().equals(spec);
    if (sameSpec && !state.dueForRetry(System.nanoTime())) {
      return state.entry();
    }
    int failures = sameSpec ? state.failures() : 0;
    if (sameSpec) {
      log.info("LayerSet {}: trying again after {} failure(s)", name, failures);
    }
    LayerSetEntry first =
        sameSpec
            ? tryingAgain(state.entry())
            : switch (pin) {
              case ImagePin.Waiting waiting ->
                  entry(LayerSetPhase.Pending, "WaitingForResolvedImage", waiting.message());
              case ImagePin.Refused refused ->
                  entry(LayerSetPhase.Failed, refused.reason(), refused.message());
              case null, default -> entry(LayerSetPhase.Pending, null, null);
            };
    states.put(name, new State(spec, first, failures, 0));
    withdraw(name); // work queued for an earlier spec no longer speaks for this LayerSet
    if (pin instanceof ImagePin.Pinned pinned) {
      // Listing the layers asks the registry: off the status loop, and not behind the fetches.
      submit(
          listing,
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
    submit(
        pool,
        () -> {
          try (interest) {
            attempt(name, spec, () -> fetchAndMaterialize(name, spec, blobs));
          } finally {
            declared.remove(name, interest);
          }
        });
  }

  /** Runs {@code work} on {@code executor}, counted as busy from now until it has finished. */
  private void submit(ExecutorService executor, Runnable work) {
    busy.incrementAndGet();
    try {
      executor.execute(
          () -> {
            try {
              work.run();
            } finally {
              busy.decrementAndGet();
            }
          });
    } catch (RuntimeException e) {
      busy.decrementAndGet(); // rejected: shutting down
      throw e;
    }
  }

  /**
   * Removes the fetched blobs and partial downloads no LayerSet on this node still needs: a Ready
   * LayerSet's root holds its layers, so only the blobs of LayerSets not Ready stay (a Failed one
   * is tried again). Does nothing while a listing or fetch is queued or running; work starts only
   * from the status loop, which calls this, so none can start meanwhile.
   */
  void removeUnneededBlobs() throws IOException {
    if (busy.get() > 0) {
      return;
    }
    Set<Digest> needed = new HashSet<>();
    states.forEach(
        (name, state) -> {
          if (state.entry().phase != LayerSetPhase.Ready) {
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
    State state = states.get(name);
    return state != null && state.spec().equals(spec);
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

  /**
   * A retry reports Failed, with the last reason, until it gets past fetching: the node does not
   * look recovered, nor fail anew (no new Event), for every attempt while the cause lasts.
   */
  private static LayerSetEntry tryingAgain(LayerSetEntry failed) {
    String message = failed.message == null ? "" : failed.message;
    return entry(
        LayerSetPhase.Failed,
        failed.reason,
        message.replaceFirst(" \\(trying again in \\d+s\\)$", "") + " (trying again now)");
  }

  /** Reports a failure and, when it may pass, when the work will be tried again. */
  private void fail(String name, String spec, Enum<?> reason, String message) {
    State now = states.get(name);
    int failures = now == null ? 1 : now.failures() + 1;
    long retryAt = 0;
    String reported = message;
    if (RETRIED.contains(reason)) {
      Duration wait = backoff(failures);
      retryAt = System.nanoTime() + wait.toNanos();
      reported = message + " (trying again in " + wait.toSeconds() + "s)";
      retries.schedule(onChange, wait.toMillis(), TimeUnit.MILLISECONDS); // a pass to retry in
    }
    LayerSetEntry failed = entry(LayerSetPhase.Failed, reason.name(), reported);
    long at = retryAt;
    states.computeIfPresent(
        name, (n, s) -> s.spec().equals(spec) ? new State(spec, failed, failures, at) : s);
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
      long started = System.nanoTime();
      long[] downloaded = {0};
      Path file =
          layer
              .fetch()
              .fetch(
                  (done, total) -> {
                    metrics.fetchedBytes.increment(done - downloaded[0]); // real downloads only
                    downloaded[0] = done;
                    LayerSetEntry progress = entry(LayerSetPhase.Fetching, null, null);
                    progress.fetchedBytes = before + done;
                    progress.totalBytes = total < 0 ? null : before + total;
                    update(name, spec, progress);
                  });
      fetched = before + Files.size(file);
      metrics.fetch.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
      sources.add(new LayerSource(file, layer.digest(), layer.mediaType(), layer.diffId()));
    }
    update(name, spec, entry(LayerSetPhase.Materializing, null, null));
    long started = System.nanoTime();
    Materialized made;
    try {
      made = store.materialize(sources);
    } catch (LayerException e) {
      if (e.reason() == LayerException.Reason.DigestMismatch) {
        discardCorrupt(sources);
      }
      throw e;
    }
    metrics.materialize.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
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
    LayerSetEntry ready = entry(LayerSetPhase.Ready, null, null);
    ready.chainId = made.chainId().toString();
    ready.root = made.root().toString();
    ready.files = made.files();
    ready.bytes = made.bytes();
    update(name, spec, ready);
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
   * Records progress only while the spec it was for is still the one wanted; download progress
   * wakes the status loop at most once a second, so a big fetch is not a storm of writes.
   */
  private void update(String name, String spec, LayerSetEntry entry) {
    states.computeIfPresent(
        name,
        (n, s) -> {
          if (!s.spec().equals(spec)) {
            return s;
          }
          if (s.entry().phase == LayerSetPhase.Failed && entry.phase == LayerSetPhase.Fetching) {
            return s; // a retry: still Failed until the blobs are all there (see tryingAgain)
          }
          int failures = entry.phase == LayerSetPhase.Ready ? 0 : s.failures();
          return new State(spec, entry, failures, 0);
        });
    long now = System.nanoTime();
    if (entry.phase != LayerSetPhase.Fetching || now - lastNotice > 1_000_000_000L) {
      lastNotice = now;
      onChange.run();
    }
  }

  private volatile long lastNotice;

  private static LayerSetEntry entry(LayerSetPhase phase, String reason, String message) {
    LayerSetEntry entry = new LayerSetEntry();
    entry.phase = phase;
    entry.reason = reason;
    entry.message = message == null ? null : truncate(message);
    return entry;
  }

  private static String truncate(String message) {
    return message.length() <= 1000 ? message : message.substring(0, 1000) + "...";
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
    retries.shutdownNow();
    listing.shutdownNow();
    pool.shutdownNow();
  }
}
