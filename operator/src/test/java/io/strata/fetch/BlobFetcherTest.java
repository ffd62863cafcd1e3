package io.strata.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.strata.layerstore.Digest;
import io.strata.layout.NodeLayout;
import io.strata.layout.RecordFile;
import io.strata.tarapply.LayerException;
import io.strata.tarapply.LayerException.Reason;
import io.strata.testing.FaultyDisk;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Downloads over real HTTP on loopback: interrupted ones resume, bad ones never land. */
class BlobFetcherTest {
  @TempDir Path tmp;
  private final byte[] blob = new byte[3 << 20];
  private final List<String> ranges = new CopyOnWriteArrayList<>();
  private final AtomicInteger requests = new AtomicInteger();
  private HttpServer server;
  private BlobFetcher fetcher;

  @BeforeEach
  void start() throws Exception {
    new Random(1).nextBytes(blob);
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    // Serves the blob, honouring Range requests.
    server.createContext(
        "/blob",
        exchange -> {
          requests.incrementAndGet();
          String range = exchange.getRequestHeaders().getFirst("Range");
          ranges.add(String.valueOf(range));
          int from = range == null ? 0 : Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
          exchange
              .getResponseHeaders()
              .set("Content-Range", "bytes " + from + "-" + (blob.length - 1) + "/" + blob.length);
          exchange.sendResponseHeaders(range == null ? 200 : 206, blob.length - from);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(blob, from, blob.length - from);
          }
          exchange.close();
        });
    server.start();
    fetcher =
        new BlobFetcher(
            new NodeLayout(tmp.resolve("state"), tmp.resolve("mnt")), 2, Duration.ofSeconds(10));
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/blob";
  }

  @Test
  void anInterruptedDownloadResumesWithARangeRequest() throws Exception {
    // What an interrupted download leaves: the first MiB in ingest/.
    Path partial = tmp.resolve("state/ingest/" + Digest.of(blob).hex() + ".partial");
    Files.createDirectories(partial.getParent());
    Files.write(partial, java.util.Arrays.copyOf(blob, 1 << 20));
    List<Long> progress = new CopyOnWriteArrayList<>();
    Path got = fetcher.fetch(url(), Digest.of(blob), (done, total) -> progress.add(done));
    assertThat(Files.readAllBytes(got)).isEqualTo(blob);
    assertThat(got).isEqualTo(tmp.resolve("state/blobs/sha256/" + Digest.of(blob).hex()));
    assertThat(ranges).containsExactly("bytes=1048576-");
    assertThat(partial).doesNotExist();
    assertThat(progress.getLast()).isEqualTo(blob.length);

    int before = requests.get();
    fetcher.fetch(url(), Digest.of(blob), (done, total) -> {});
    assertThat(requests.get()).as("a blob already here is not fetched again").isEqualTo(before);
  }

  @Test
  void layerSetsSharingABlobFetchItOnceAtATime() throws Exception {
    Digest digest = Digest.of(blob);
    List<java.util.concurrent.Future<Path>> fetches = new java.util.ArrayList<>();
    try (var pool = java.util.concurrent.Executors.newFixedThreadPool(4)) {
      for (int i = 0; i < 4; i++) {
        fetches.add(pool.submit(() -> fetcher.fetch(url(), digest, (done, total) -> {})));
      }
      for (var fetch : fetches) {
        assertThat(fetch.get()).hasBinaryContent(blob);
      }
    }
    assertThat(requests).hasValue(1);
  }

  @Test
  void aPowerCutAfterAFetchLeavesTheBlobWholeOrAbsent() throws Exception {
    try (FaultyDisk disk = FaultyDisk.ext4(Files.createDirectories(tmp.resolve("disk")), "64M")) {
      Path state = disk.path().resolve("state");
      BlobFetcher onDisk =
          new BlobFetcher(new NodeLayout(state, tmp.resolve("mnt")), 2, Duration.ofSeconds(10));
      Path got = onDisk.fetch(url(), Digest.of(blob), (done, total) -> {});
      // The agent goes on: its next synced record commits the filesystem's journal, and with it
      // the blob's name, well before the kernel would write the blob's data back by itself.
      RecordFile.replace(state.resolve("record"), "synced\n");
      disk.powerCut();
      if (Files.exists(got)) {
        assertThat(Digest.ofFile(got))
            .as("the blob after the power cut")
            .isEqualTo(Digest.of(blob));
      }
      assertThat(onDisk.fetch(url(), Digest.of(blob), (done, total) -> {})).hasBinaryContent(blob);
    }
  }

  @Test
  void aBlobWithTheWrongDigestNeverLands() {
    Digest wrong = new Digest("1".repeat(64));
    assertThatThrownBy(() -> fetcher.fetch(url(), wrong, (done, total) -> {}))
        .isInstanceOfSatisfying(
            LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.DigestMismatch));
    assertThat(tmp.resolve("state/blobs/sha256/" + wrong.hex())).doesNotExist();
    assertThat(tmp.resolve("state/ingest/" + wrong.hex() + ".partial")).doesNotExist();
  }

  @Test
  void onlyHttpHttpsAndFileUrls() {
    assertThatThrownBy(() -> fetcher.fetch("ftp://127.0.0.1/x", Digest.of(blob), (d, t) -> {}))
        .hasMessageContaining("only http, https and file");
  }
}
