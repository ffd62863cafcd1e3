package io.strata.fetch;

import io.strata.layerstore.Digest;
import io.strata.layout.NodeLayout;
import io.strata.tarapply.LayerException;
import io.strata.tarapply.LayerException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.concurrent.Semaphore;

/**
 * Brings a layer blob onto the node and proves its digest. {@code file} URLs are used where they
 * are (the layer store verifies every byte as it reads them); {@code http} and {@code https} blobs
 * stream into {@code ingest/<hex>.partial}, resume with a Range request after an interruption, and
 * move to {@code blobs/sha256/<hex>} only once their digest matches. A blob already there is not
 * fetched again, whichever LayerSet brought it.
 */
public final class BlobFetcher {
  private static final int ATTEMPTS = 4;

  private final NodeLayout layout;
  private final HttpClient http;
  private final Semaphore slots;
  private final Duration timeout;

  public BlobFetcher(NodeLayout layout, int concurrentFetches, Duration timeout) {
    this.layout = layout;
    this.http =
        HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NORMAL)
            .connectTimeout(timeout)
            .build();
    this.slots = new Semaphore(concurrentFetches);
    this.timeout = timeout;
  }

  /** What a fetch reports while it runs: bytes so far of the total (-1 when unknown). */
  public interface Progress {
    void update(long done, long total);
  }

  /** The local file holding blob {@code digest} from {@code url}, fetched if need be. */
  public Path fetch(String url, Digest digest, Progress progress)
      throws LayerException, IOException, InterruptedException {
    URI uri = URI.create(url);
    switch (String.valueOf(uri.getScheme())) {
      case "file" -> {
        Path file = Path.of(uri);
        if (!Files.isRegularFile(file)) {
          throw new LayerException(Reason.IOError, url + " is not a readable file");
        }
        return file;
      }
      case "http", "https" -> {
        Path blob = blobPath(digest);
        if (Files.isRegularFile(blob, LinkOption.NOFOLLOW_LINKS)) {
          return blob;
        }
        slots.acquire();
        try {
          return download(uri, digest, blob, progress);
        } finally {
          slots.release();
        }
      }
      default -> throw new LayerException(Reason.IOError, url + ": only http, https and file URLs");
    }
  }

  public Path blobPath(Digest digest) {
    return layout.stateDir().resolve("blobs/sha256").resolve(digest.hex());
  }

  private Path download(URI uri, Digest digest, Path blob, Progress progress)
      throws LayerException, IOException, InterruptedException {
    Path partial = layout.stateDir().resolve("ingest").resolve(digest.hex() + ".partial");
    Files.createDirectories(partial.getParent());
    IOException last = null;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (attempt > 0) {
        Thread.sleep(250L << attempt); // 0.5 s, 1 s, 2 s
      }
      try {
        transfer(uri, partial, progress);
        last = null;
        break;
      } catch (IOException e) {
        last = e; // resumed from where it stopped on the next attempt
      }
    }
    if (last != null) {
      throw new LayerException(
          Reason.IOError,
          "fetching " + uri + " failed: " + (last.getMessage() != null ? last.getMessage() : last),
          last);
    }
    Digest actual = digestOf(partial);
    if (!actual.equals(digest)) {
      Files.deleteIfExists(partial);
      throw new LayerException(
          Reason.DigestMismatch, uri + " has digest " + actual + ", expected " + digest);
    }
    Files.createDirectories(blob.getParent());
    Files.move(partial, blob, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return blob;
  }

  /** Appends to {@code partial} from where it ends (Range), or starts over when refused. */
  private void transfer(URI uri, Path partial, Progress progress)
      throws IOException, InterruptedException {
    long have = Files.exists(partial) ? Files.size(partial) : 0;
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout).GET();
    if (have > 0) {
      request.header("Range", "bytes=" + have + "-");
    }
    HttpResponse<InputStream> response =
        http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
    int status = response.statusCode();
    boolean resumed = status == 206;
    if (status == 416 && have > 0) {
      response.body().close();
      return; // the partial file is already whole
    }
    if (status != 200 && !resumed) {
      response.body().close();
      throw new IOException("HTTP " + status);
    }
    long length = response.headers().firstValueAsLong("Content-Length").orElse(-1);
    long total = length < 0 ? -1 : (resumed ? have + length : length);
    long done = resumed ? have : 0;
    StandardOpenOption mode =
        resumed ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING;
    try (InputStream in = response.body();
        OutputStream out =
            Files.newOutputStream(
                partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE, mode)) {
      byte[] buffer = new byte[64 << 10];
      long reported = 0;
      for (int n; (n = in.read(buffer)) > 0; ) {
        out.write(buffer, 0, n);
        done += n;
        if (done - reported >= (1 << 20)) {
          progress.update(done, total);
          reported = done;
        }
      }
    }
    progress.update(done, total);
    if (total >= 0 && done != total) {
      throw new IOException("the body ended after " + done + " of " + total + " bytes");
    }
  }

  private static Digest digestOf(Path file) throws IOException {
    MessageDigest sha = Digest.sha256();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buffer = new byte[64 << 10];
      for (int n; (n = in.read(buffer)) > 0; ) {
        sha.update(buffer, 0, n);
      }
    }
    return Digest.of(sha);
  }
}
