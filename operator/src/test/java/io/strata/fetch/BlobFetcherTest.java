package io.strata.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.strata.fetch.FetchException.Reason;
import io.strata.layout.RecordFile;
import io.strata.layout.StoreLayout;
import io.strata.oci.Digest;
import io.strata.testing.FaultyDisk;
import io.strata.testing.Tools;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
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
  private final CountDownLatch released = new CountDownLatch(1);
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
    // Sends zeroes without a length until the client goes away.
    server.createContext(
        "/endless",
        exchange -> {
          exchange.sendResponseHeaders(200, 0);
          byte[] zeroes = new byte[64 << 10];
          try (OutputStream out = exchange.getResponseBody()) {
            while (!released.await(0, TimeUnit.SECONDS)) {
              out.write(zeroes);
            }
          } catch (IOException | InterruptedException e) {
            // the client stopped reading: what the test wanted
          }
          exchange.close();
        });
    // Sends the first bytes of the blob, then nothing until the test ends.
    server.createContext(
        "/stall",
        exchange -> {
          requests.incrementAndGet();
          exchange.sendResponseHeaders(200, blob.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(blob, 0, 10);
            out.flush();
            released.await(60, TimeUnit.SECONDS);
          } catch (IOException | InterruptedException e) {
            // the client gave up: what the test wanted
          }
          exchange.close();
        });
    server.setExecutor(Executors.newCachedThreadPool());
    server.start();
    fetcher = new BlobFetcher(new StoreLayout(tmp.resolve("state")), 2, Duration.ofSeconds(10));
  }

  @AfterEach
  void stop() {
    released.countDown();
    server.stop(0);
  }

  private String url() {
    return url("/blob");
  }

  private String url(String path) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + path;
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
    // Room for the blob beside the reserve a download leaves the node.
    try (FaultyDisk disk = FaultyDisk.ext4(Files.createDirectories(tmp.resolve("disk")), "320M")) {
      Path state = disk.path().resolve("state");
      BlobFetcher onDisk = new BlobFetcher(new StoreLayout(state), 2, Duration.ofSeconds(10));
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
            FetchException.class, e -> assertThat(e.reason()).isEqualTo(Reason.DigestMismatch));
    assertThat(tmp.resolve("state/blobs/sha256/" + wrong.hex())).doesNotExist();
    assertThat(tmp.resolve("state/ingest/" + wrong.hex() + ".partial")).doesNotExist();
  }

  @Test
  void aBlobThatSaysItIsBiggerThanStatedIsRefusedBeforeAByteLands() {
    Digest digest = Digest.of(blob);
    assertThatThrownBy(() -> fetcher.fetch(url(), digest, blob.length - 1, (d, t) -> {}))
        .isInstanceOfSatisfying(
            FetchException.class, e -> assertThat(e.reason()).isEqualTo(Reason.SizeLimit))
        .hasMessage(
            "blob %s from %s says it is %d bytes, more than the %d bytes it is stated to have",
            digest, url(), blob.length, blob.length - 1);
    assertThat(tmp.resolve("state/ingest/" + digest.hex() + ".partial")).doesNotExist();
  }

  @Test
  void aStreamWithoutALengthStopsAtTheSizeItIsStatedToHave() {
    Digest digest = new Digest("2".repeat(64));
    assertThatThrownBy(() -> fetcher.fetch(url("/endless"), digest, 5 << 20, (d, t) -> {}))
        .isInstanceOfSatisfying(
            FetchException.class, e -> assertThat(e.reason()).isEqualTo(Reason.SizeLimit))
        .hasMessageContaining("sent more than the " + (5 << 20) + " bytes");
    assertThat(tmp.resolve("state/ingest/" + digest.hex() + ".partial")).doesNotExist();
  }

  /** No size stated: the free space the node keeps bounds it, on a small filesystem here. */
  @Test
  void anEndlessStreamStopsBeforeItEatsTheNodesReserve() throws Exception {
    Tools.requireRoot("a small tmpfs needs root");
    Path small = Files.createDirectories(tmp.resolve("small"));
    Tools.run(tmp, "mount", "-t", "tmpfs", "-o", "size=320m", "tmpfs", small.toString());
    try {
      BlobFetcher onSmall =
          new BlobFetcher(new StoreLayout(small.resolve("state")), 1, Duration.ofSeconds(10));
      Digest digest = new Digest("3".repeat(64));
      assertThatThrownBy(() -> onSmall.fetch(url("/endless"), digest, (d, t) -> {}))
          .isInstanceOfSatisfying(
              FetchException.class, e -> assertThat(e.reason()).isEqualTo(Reason.NoSpace))
          .hasMessageContaining("blob " + digest)
          .hasMessageContaining("keeps " + BlobFetcher.RESERVE_BYTES + " for itself");
      assertThat(small.resolve("state/ingest/" + digest.hex() + ".partial")).doesNotExist();
    } finally {
      Tools.run(tmp, "umount", small.toString());
    }
  }

  @Test
  void aServerThatStopsSendingIsGivenUpOnAfterTheStallTimeout() {
    BlobFetcher impatient =
        new BlobFetcher(
            new StoreLayout(tmp.resolve("state")),
            1,
            Duration.ofSeconds(10),
            Duration.ofMillis(300),
            fetcher.http(),
            Destinations.DEFAULT,
            List.of());
    assertThatThrownBy(() -> impatient.fetch(url("/stall"), Digest.of(blob), (d, t) -> {}))
        .isInstanceOfSatisfying(
            FetchException.class, e -> assertThat(e.reason()).isEqualTo(Reason.Unreachable))
        .hasMessageContaining("sent nothing for 300 ms after 10 bytes");
    assertThat(requests).as("every attempt met the stall").hasValue(4);
  }

  /** The privileged agent reads no file a LayerSet names unless the node allows its directory. */
  @Test
  void fileUrlsNameOnlyFilesBeneathTheDirectoriesANodeAllows() throws Exception {
    Path allowed = Files.createDirectories(tmp.resolve("layers"));
    Path layer = Files.write(allowed.resolve("l.tar"), blob);
    Files.createSymbolicLink(allowed.resolve("escape"), Path.of("/etc/hostname"));
    Digest digest = Digest.of(blob);
    BlobFetcher allowing =
        new BlobFetcher(
            new StoreLayout(tmp.resolve("state")),
            1,
            Duration.ofSeconds(10),
            BlobFetcher.DEFAULT_STALL_TIMEOUT,
            fetcher.http(),
            Destinations.DEFAULT,
            List.of(allowed));

    assertThat(allowing.fetch(layer.toUri().toString(), digest, (d, t) -> {})).isEqualTo(layer);
    assertThatThrownBy(() -> allowing.fetch("file:///etc/hostname", digest, (d, t) -> {}))
        .isInstanceOfSatisfying(
            FetchException.class, e -> assertThat(e.reason()).isEqualTo(Reason.ForbiddenUrl))
        .hasMessageContaining("not beneath a directory this node allows");
    assertThatThrownBy(
            () ->
                allowing.fetch(allowed.resolve("escape").toUri().toString(), digest, (d, t) -> {}))
        .as("a symlink in an allowed directory to a file outside it")
        .isInstanceOfSatisfying(
            FetchException.class, e -> assertThat(e.reason()).isEqualTo(Reason.ForbiddenUrl));
    assertThatThrownBy(() -> fetcher.fetch(layer.toUri().toString(), digest, (d, t) -> {}))
        .as("no directory allowed: no file URL")
        .hasMessageContaining("this node fetches no file URLs");
  }

  @Test
  void onlyHttpHttpsAndFileUrls() {
    assertThatThrownBy(() -> fetcher.fetch("ftp://127.0.0.1/x", Digest.of(blob), (d, t) -> {}))
        .hasMessageContaining("only http, https and file");
  }
}
