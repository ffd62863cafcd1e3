package io.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import io.strata.fetch.BlobFetcher;
import io.strata.layerstore.LayerStore;
import io.strata.layerstore.LayerStore.LayerSource;
import io.strata.layerstore.LayerStore.Materialized;
import io.strata.layout.StoreLayout;
import io.strata.oci.Digest;
import io.strata.registry.Platform;
import io.strata.sys.Syscalls;
import io.strata.tarapply.Limits;
import io.strata.testing.Eventually;
import io.strata.testing.FileServer;
import io.strata.testing.TarBuilder;
import io.strata.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerSetWorkTest {
  /**
   * The only worker is held by a slow download; a LayerSet queued behind it leaves the node. Its
   * declaration goes with it: a build that passes through its chain publishes only its own tip.
   */
  @Test
  void aFetchDroppedWhileItWaitsForAWorkerNoLongerMakesOtherBuildsPublishItsRoot(@TempDir Path tmp)
      throws Exception {
    Tools.requireRoot("materializing sets owners, which needs root");
    Path served = Files.createDirectories(tmp.resolve("served"));
    Path base = new TarBuilder().file("f", "base").write(served.resolve("base.tar"));
    Path a = new TarBuilder().file("a", "a").write(served.resolve("a.tar"));
    Path slow = new TarBuilder().file("slow", "slow").write(served.resolve("slow.tar"));
    Path b = new TarBuilder().file("b", "b").write(tmp.resolve("b.tar"));
    StoreLayout layout = new StoreLayout(tmp.resolve("state"));
    LayerStore store = new LayerStore(layout, Syscalls.get(), Limits.DEFAULT);
    try (FileServer server =
            new FileServer()
                .serve("/", served, Duration.ZERO)
                .serve("/slow/", served, Duration.ofSeconds(20));
        LayerSetWork work = work(new BlobFetcher(layout, 1, Duration.ofMinutes(1)), store)) {
      work.ensure(layerSet("holds-the-worker", server.url("/slow/", "slow.tar"), slow), PLATFORM);
      Eventually.within(
          Duration.ofSeconds(20), () -> assertThat(server.requests("/slow/", "slow.tar")).isOne());
      work.ensure(
          layerSet("dropped", server.url("/", "base.tar"), base, server.url("/", "a.tar"), a),
          PLATFORM);
      work.retainOnly(Set.of("holds-the-worker"));

      Materialized tip =
          store.materialize(
              Stream.of(base, a, b).map(p -> new LayerSource(p, null, null)).toList());
      try (Stream<Path> roots = Files.list(layout.layers())) {
        assertThat(roots.map(p -> p.getFileName().toString()))
            .as("only the tip: nothing on this node still asks for (base, a)")
            .containsExactly(tip.chainId().hex());
      }
      assertThat(server.requests("/", "base.tar")).as("the dropped fetch never ran").isZero();
    }
  }

  /**
   * The node's copy of a blob changes after it was verified (a failing disk): the next LayerSet
   * that reads it fails with DigestMismatch, the copy goes, and the retry fetches it again.
   */
  @Test
  void aCachedBlobThatNoLongerHasItsDigestIsFetchedAgain(@TempDir Path tmp) throws Exception {
    Tools.requireRoot("materializing sets owners, which needs root");
    Path served = Files.createDirectories(tmp.resolve("served"));
    Path base = new TarBuilder().file("f", "base").write(served.resolve("base.tar"));
    Path next = new TarBuilder().file("n", "next").write(served.resolve("next.tar"));
    StoreLayout layout = new StoreLayout(tmp.resolve("state"));
    BlobFetcher fetcher = new BlobFetcher(layout, 1, Duration.ofMinutes(1));
    try (FileServer server = new FileServer().serve("/", served, Duration.ZERO);
        LayerSetWork work = work(fetcher, new LayerStore(layout, Syscalls.get(), Limits.DEFAULT))) {
      String url = server.url("/", "base.tar");
      Eventually.within(
          Duration.ofSeconds(20),
          () ->
              assertThat(phase(work, layerSet("first", url, base))).isEqualTo(LayerSetPhase.Ready));
      Path cached = fetcher.blobPath(Digest.ofFile(base));
      byte[] bytes = Files.readAllBytes(cached);
      bytes[600] ^= 1; // a bit of the first entry's data flips
      Files.write(cached, bytes);

      // A chain not built yet, on top of it: applying it reads the base's blob to verify it.
      LayerSet second = layerSet("second", url, base, server.url("/", "next.tar"), next);
      Eventually.within(
          Duration.ofSeconds(20),
          () -> {
            LayerSetEntry failed = NodeStatusBuilder.entry(work.ensure(second, PLATFORM));
            assertThat(failed.phase).isEqualTo(LayerSetPhase.Failed);
            assertThat(failed.reason).isEqualTo("DigestMismatch");
          });
      assertThat(cached).as("the corrupt copy").doesNotExist();
      Eventually.within(
          Duration.ofSeconds(30), // the first retry comes 10 s after the failure
          () -> assertThat(phase(work, second)).isEqualTo(LayerSetPhase.Ready));
      assertThat(cached).hasSameBinaryContentAs(base);
      assertThat(server.requests("/", "base.tar")).as("fetched again once").isEqualTo(2);
    }
  }

  /**
   * A Ready LayerSet's root holds its layers: its blobs go, and a LayerSet of the same layers is
   * Ready from that root without fetching them again. A LayerSet not yet Ready keeps its blobs for
   * its next attempt.
   */
  @Test
  void blobsStayOnlyWhileALayerSetThatIsNotReadyNeedsThem(@TempDir Path tmp) throws Exception {
    Tools.requireRoot("materializing sets owners, which needs root");
    Path served = Files.createDirectories(tmp.resolve("served"));
    Path base = new TarBuilder().file("f", "base").write(served.resolve("base.tar"));
    Path a = new TarBuilder().file("a", "a").write(served.resolve("a.tar"));
    Path late = new TarBuilder().file("late", "late").write(tmp.resolve("late.tar"));
    StoreLayout layout = new StoreLayout(tmp.resolve("state"));
    BlobFetcher fetcher = new BlobFetcher(layout, 1, Duration.ofMinutes(1));
    try (FileServer server = new FileServer().serve("/", served, Duration.ZERO);
        LayerSetWork work = work(fetcher, new LayerStore(layout, Syscalls.get(), Limits.DEFAULT))) {
      String baseUrl = server.url("/", "base.tar");
      String aUrl = server.url("/", "a.tar");
      assertPhase(work, layerSet("ready", baseUrl, base, aUrl, a), LayerSetPhase.Ready);
      // Its second layer is not served yet: Failed, to be tried again.
      LayerSet waiting = layerSet("waiting", baseUrl, base, server.url("/", "late.tar"), late);
      assertPhase(work, waiting, LayerSetPhase.Failed);

      Eventually.within(
          Duration.ofSeconds(5), // once the failed attempt has finished
          () -> {
            work.removeUnneededBlobs();
            assertThat(fetcher.blobPath(Digest.ofFile(a))).as("only Ready needs it").doesNotExist();
          });
      assertThat(fetcher.blobPath(Digest.ofFile(base))).as("waiting needs it").exists();

      assertPhase(work, layerSet("again", baseUrl, base, aUrl, a), LayerSetPhase.Ready);
      assertThat(server.requests("/", "a.tar")).as("Ready from the root it shares").isOne();

      Files.copy(late, served.resolve("late.tar"));
      Eventually.within(
          Duration.ofSeconds(30), // the first retry comes 10 s after the failure
          () -> assertThat(phase(work, waiting)).isEqualTo(LayerSetPhase.Ready));
      assertThat(server.requests("/", "base.tar")).as("the blob waiting kept").isOne();
      Eventually.within(
          Duration.ofSeconds(5),
          () -> {
            work.removeUnneededBlobs();
            assertThat(layout.stateDir().resolve("blobs/sha256")).isEmptyDirectory();
          });
    }
  }

  private static void assertPhase(LayerSetWork work, LayerSet layerSet, LayerSetPhase phase) {
    Eventually.within(
        Duration.ofSeconds(20), () -> assertThat(phase(work, layerSet)).isEqualTo(phase));
  }

  /** Where {@code layerSet} stands, as its entry reports it. */
  private static LayerSetPhase phase(LayerSetWork work, LayerSet layerSet) {
    return NodeStatusBuilder.entry(work.ensure(layerSet, PLATFORM)).phase;
  }

  /** URL layers only (no registry), one fetch worker, nothing woken on a change. */
  private static LayerSetWork work(BlobFetcher fetcher, LayerStore store) {
    return new LayerSetWork(
        fetcher,
        null,
        null,
        store,
        new LayerSetWorkers(1),
        new AgentMetrics(),
        System::nanoTime,
        () -> {});
  }

  private static final Platform PLATFORM = Platform.current();

  /** A LayerSet of layer URLs, each followed by the file it serves (for its digest). */
  private static LayerSet layerSet(String name, Object... urlsAndFiles) throws Exception {
    LayerSet layerSet = new LayerSet();
    layerSet.getMetadata().setName(name);
    layerSet.setSpec(new LayerSet.Spec());
    layerSet.getSpec().layers = new ArrayList<>();
    for (int i = 0; i < urlsAndFiles.length; i += 2) {
      layerSet
          .getSpec()
          .layers
          .add(
              new LayerSet.Layer(
                  (String) urlsAndFiles[i], Digest.ofFile((Path) urlsAndFiles[i + 1]).toString()));
    }
    return layerSet;
  }
}
