package io.strata.fetch;

import io.strata.fetch.FetchException.Reason;
import io.strata.fetch.HttpClients.Network;
import io.strata.layout.Durable;
import io.strata.layout.StoreLayout;
import io.strata.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Brings a layer blob onto the node and proves its digest. {@code file} URLs are used where they
 * are (the layer store verifies every byte as it reads them); {@code http} and {@code https} blobs
 * stream into {@code ingest/<hex>.partial}, resume with a Range request after an interruption, and
 * move to {@code blobs/sha256/<hex>} only once their digest matches. A blob already there is not
 * fetched again, whichever LayerSet brought it.
 *
 * <p>Every download is bounded: by the size its manifest or its LayerSet states (more bytes, or a
 * Content-Length over it, stop it), by the free space the node keeps ({@link #RESERVE_BYTES}, as
 * the layer store does), and by a stall timeout (a server that sends nothing for that long is given
 * up on, and the transfer resumes from another attempt). A download stopped for its size or for
 * space deletes its partial file and says which blob and why.
 */
public final class BlobFetcher {
  private static final int ATTEMPTS = 4;

  /** What a download leaves free on the state dir's filesystem; below it, it stops (NoSpace). */
  public static final long RESERVE_BYTES = 256L << 20;

  /** Free space is checked again after this many bytes written. */
  private static final long CHECK_EVERY_BYTES = 64L << 20;

  public static final Duration DEFAULT_STALL_TIMEOUT = Duration.ofSeconds(60);

  private final StoreLayout layout;
  private final HttpClient http;
  private final Semaphore slots;

  /** Striped by digest: a bounded set of locks, never two downloads of one blob at once. */
  private final ReentrantLock[] downloading =
      Stream.generate(ReentrantLock::new).limit(64).toArray(ReentrantLock[]::new);

  private final Duration timeout;
  private final Duration stallTimeout;
  private final Destinations destinations;
  private final List<Path> fileUrlDirs;

  public BlobFetcher(StoreLayout layout, int concurrentFetches, Duration timeout)
      throws IOException {
    this(layout, concurrentFetches, timeout, HttpClients.create(Network.system(), timeout));
  }

  public BlobFetcher(StoreLayout layout, int concurrentFetches, Duration timeout, HttpClient http) {
    this(
        layout,
        concurrentFetches,
        timeout,
        DEFAULT_STALL_TIMEOUT,
        http,
        Destinations.DEFAULT,
        List.of());
  }

  /**
   * @param timeout how long a request may wait for its response's headers
   * @param stallTimeout how long a response's body may send nothing before it is given up on
   * @param http a client that follows no redirect ({@code destinations} follows them, checked)
   * @param fileUrlDirs the directories {@code file} URLs may name files beneath; none: no file URL
   */
  public BlobFetcher(
      StoreLayout layout,
      int concurrentFetches,
      Duration timeout,
      Duration stallTimeout,
      HttpClient http,
      Destinations destinations,
      List<Path> fileUrlDirs) {
    this.layout = layout;
    this.destinations = destinations;
    this.fileUrlDirs = List.copyOf(fileUrlDirs);
    this.http = http;
    this.slots = new Semaphore(concurrentFetches);
    this.timeout = timeout;
    this.stallTimeout = stallTimeout;
  }

  /** What a fetch reports while it runs: bytes so far of the total (-1 when unknown). */
  public interface Progress {
    void update(long done, long total);
  }

  /**
   * One place a blob can be fetched from, and how to ask it: a registry origin adds its credentials
   * and answers an authentication challenge; a plain URL just sends.
   */
  public record Origin(URI uri, Sender sender) {
    HttpResponse<InputStream> send(HttpRequest.Builder request)
        throws IOException, InterruptedException {
      return sender.send(request);
    }
  }

  /** Sends one request to an origin and returns the response with its body still unread. */
  @FunctionalInterface
  public interface Sender {
    HttpResponse<InputStream> send(HttpRequest.Builder request)
        throws IOException, InterruptedException;
  }

  /** The HTTP client blobs are fetched with: the node's trust store and proxies. */
  public HttpClient http() {
    return http;
  }

  /** The local file holding blob {@code digest} from {@code url}, fetched if need be. */
  public Path fetch(String url, Digest digest, Progress progress)
      throws FetchException, IOException, InterruptedException {
    return fetch(url, digest, -1, progress);
  }

  /**
   * The local file holding blob {@code digest} from {@code url}, fetched if need be.
   *
   * @param size the blob's size as its LayerSet states it, or -1: a download stops past it
   */
  public Path fetch(String url, Digest digest, long size, Progress progress)
      throws FetchException, IOException, InterruptedException {
    URI uri = URI.create(url);
    switch (String.valueOf(uri.getScheme())) {
      case "file" -> {
        return allowedFile(url, Path.of(uri));
      }
      case "http", "https" -> {
        Path blob = blobPath(digest);
        if (Files.isRegularFile(blob, LinkOption.NOFOLLOW_LINKS)) {
          return blob;
        }
        return fetch(List.of(plain(uri)), digest, size, progress);
      }
      default -> throw new FetchException(Reason.IOError, url + ": only http, https and file URLs");
    }
  }

  /**
   * The local file holding blob {@code digest}, fetched if need be from the first of {@code
   * origins} that serves it (a registry's mirrors, then the registry itself).
   */
  public Path fetch(List<Origin> origins, Digest digest, Progress progress)
      throws FetchException, IOException, InterruptedException {
    return fetch(origins, digest, -1, progress);
  }

  /**
   * As {@link #fetch(List, Digest, Progress)}, stopping past {@code size} bytes (the size its
   * manifest states), or -1 when none is stated.
   */
  public Path fetch(List<Origin> origins, Digest digest, long size, Progress progress)
      throws FetchException, IOException, InterruptedException {
    Path blob = blobPath(digest);
    if (Files.isRegularFile(blob, LinkOption.NOFOLLOW_LINKS)) {
      return blob;
    }
    // One download per blob: LayerSets sharing a layer wait for the first instead of writing
    // the same ingest file at once.
    ReentrantLock lock = downloading[Math.floorMod(digest.hashCode(), downloading.length)];
    lock.lockInterruptibly();
    try {
      if (Files.isRegularFile(blob, LinkOption.NOFOLLOW_LINKS)) {
        return blob; // another LayerSet brought it while this one waited
      }
      slots.acquire();
      try {
        return download(origins, digest, size, blob, progress);
      } finally {
        slots.release();
      }
    } finally {
      lock.unlock();
    }
  }

  private Origin plain(URI uri) {
    return new Origin(
        uri,
        request ->
            destinations.send(http, request.build(), HttpResponse.BodyHandlers.ofInputStream()));
  }

  /**
   * {@code file} as a file URL may name it: a regular file strictly beneath one of the directories
   * this node allows, once every symlink on its way is resolved. The privileged agent can read any
   * file of the node; without this, anyone who may create a LayerSet could have it read one.
   */
  private Path allowedFile(String url, Path file) throws FetchException, IOException {
    if (fileUrlDirs.isEmpty()) {
      throw new FetchException(
          Reason.ForbiddenUrl,
          url + ": this node fetches no file URLs (the agent's --allow-file-urls names none)");
    }
    // As named first, so that whether a file outside exists is never told; then as resolved.
    Path named = file.normalize();
    if (fileUrlDirs.stream().noneMatch(dir -> beneath(named, dir))) {
      throw notAllowed(url);
    }
    if (!Files.isRegularFile(file)) {
      throw new FetchException(Reason.IOError, url + " is not a readable file");
    }
    Path real = file.toRealPath();
    for (Path dir : fileUrlDirs) {
      try {
        if (beneath(real, dir.toRealPath())) {
          return real;
        }
      } catch (NoSuchFileException e) {
        // allowed, but not on this node
      }
    }
    throw notAllowed(url);
  }

  private static boolean beneath(Path path, Path dir) {
    return path.startsWith(dir) && !path.equals(dir);
  }

  private FetchException notAllowed(String url) {
    return new FetchException(
        Reason.ForbiddenUrl,
        url + " is not beneath a directory this node allows file URLs from (" + fileUrlDirs + ")");
  }

  /**
   * Removes the node's copy of blob {@code digest} if it no longer has that digest (a failing disk,
   * a hand that changed it): a blob is verified once, when it lands, so without this a corrupt copy
   * would fail every LayerSet that uses it for good. The next fetch brings it again. Returns
   * whether it removed one.
   */
  public boolean discardIfCorrupt(Digest digest) throws IOException {
    Path blob = blobPath(digest);
    if (!Files.isRegularFile(blob, LinkOption.NOFOLLOW_LINKS)
        || Digest.ofFile(blob).equals(digest)) {
      return false;
    }
    Files.delete(blob);
    return true;
  }

  /**
   * Removes the fetched blobs and partial downloads of every digest not in {@code keep}, and
   * returns those digests. The caller makes sure no fetch runs meanwhile. Names that are not a
   * blob's are left alone.
   */
  public List<Digest> removeAllBut(Set<Digest> keep) throws IOException {
    Set<String> kept = keep.stream().map(Digest::hex).collect(Collectors.toSet());
    List<Digest> removed = new ArrayList<>();
    for (Path dir : List.of(layout.blobs(), layout.ingest())) {
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        continue;
      }
      try (Stream<Path> files = Files.list(dir)) {
        for (Path file : files.toList()) {
          String hex = file.getFileName().toString().replaceFirst("\\.partial$", "");
          if (BLOB_NAME.matcher(hex).matches() && !kept.contains(hex)) {
            Files.deleteIfExists(file);
            removed.add(new Digest(hex));
          }
        }
      }
    }
    return removed;
  }

  private static final Pattern BLOB_NAME = Pattern.compile("[0-9a-f]{64}");

  public Path blobPath(Digest digest) {
    return layout.blob(digest.hex());
  }

  /**
   * Tries the origins in order, a few rounds with backoff; a transfer that breaks off resumes from
   * where it stopped, from whichever origin answers next. An origin that refuses for good (4xx) is
   * not asked again.
   */
  private Path download(
      List<Origin> origins, Digest digest, long size, Path blob, Progress progress)
      throws FetchException, IOException, InterruptedException {
    Path partial = layout.ingest().resolve(digest.hex() + ".partial");
    Files.createDirectories(partial.getParent());
    List<Origin> remaining = new ArrayList<>(origins);
    Exception last = null;
    Origin served = null;
    for (int attempt = 0; attempt < ATTEMPTS && served == null && !remaining.isEmpty(); attempt++) {
      if (attempt > 0) {
        Thread.sleep(250L << attempt); // 0.5 s, 1 s, 2 s
      }
      for (Iterator<Origin> it = remaining.iterator(); it.hasNext(); ) {
        Origin origin = it.next();
        try {
          transfer(origin, digest, size, partial, progress);
          served = origin;
          break;
        } catch (FetchException e) {
          Files.deleteIfExists(partial); // too big for what was stated, or for the disk
          throw e;
        } catch (RefusedException e) {
          last = e; // this origin will not serve it: do not ask again
          it.remove();
        } catch (IOException e) {
          last = e; // resumed from where it stopped on the next attempt
        }
      }
    }
    if (served == null) {
      String where =
          origins.size() == 1
              ? origins.getFirst().uri().toString()
              : origins.size() + " origins (last " + origins.getLast().uri() + ")";
      String why =
          last == null
              ? "no origin"
              : last.getMessage() != null ? last.getMessage() : last.toString();
      Reason reason =
          last instanceof RefusedException refused ? refused.reason() : Reason.Unreachable;
      throw new FetchException(reason, "fetching " + where + " failed: " + why, last);
    }
    Digest actual = Digest.ofFile(partial);
    if (!actual.equals(digest)) {
      Files.deleteIfExists(partial);
      throw new FetchException(
          Reason.DigestMismatch, served.uri() + " has digest " + actual + ", expected " + digest);
    }
    Files.createDirectories(blob.getParent());
    Durable.rename(partial, blob); // on disk before any LayerSet uses it
    return blob;
  }

  /** Appends to {@code partial} from where it ends (Range), or starts over when refused. */
  private void transfer(Origin origin, Digest digest, long size, Path partial, Progress progress)
      throws FetchException, IOException, InterruptedException {
    long have = Files.exists(partial) ? Files.size(partial) : 0;
    HttpRequest.Builder request = HttpRequest.newBuilder(origin.uri()).timeout(timeout).GET();
    if (have > 0) {
      request.header("Range", "bytes=" + have + "-");
    }
    HttpResponse<InputStream> response = origin.send(request);
    int status = response.statusCode();
    boolean resumed = status == 206;
    if (status == 416 && have > 0) {
      response.body().close();
      return; // the partial file is already whole
    }
    if (status != 200 && !resumed) {
      response.body().close();
      String message = origin.uri() + " answered HTTP " + status;
      switch (status) {
        case 401, 403 -> throw new RefusedException(Reason.Unauthorized, message);
        case 404, 410 -> throw new RefusedException(Reason.NotFound, message);
        default -> {
          if (status >= 400 && status < 500 && status != 408 && status != 429) {
            throw new RefusedException(Reason.IOError, message);
          }
          throw new IOException(message); // 5xx, 408, 429: worth another try
        }
      }
    }
    long length = response.headers().firstValueAsLong("Content-Length").orElse(-1);
    long total = length < 0 ? -1 : (resumed ? have + length : length);
    long done = resumed ? have : 0;
    Bounds bounds = new Bounds(origin, digest, size, partial);
    if (total >= 0) {
      bounds.checkStated(have, total);
    }
    StandardOpenOption mode =
        resumed ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING;
    try (InputStream in = response.body();
        StallGuard guard = StallGuard.watch(in, stallTimeout);
        OutputStream out =
            Files.newOutputStream(
                partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE, mode)) {
      byte[] buffer = new byte[64 << 10];
      long reported = 0;
      long checked = done;
      try {
        for (int n; (n = in.read(buffer)) > 0; ) {
          guard.progressed();
          done += n;
          bounds.checkSent(done);
          out.write(buffer, 0, n);
          if (done - checked >= CHECK_EVERY_BYTES) {
            bounds.checkRoom(done);
            checked = done;
          }
          if (done - reported >= (1 << 20)) {
            progress.update(done, total);
            reported = done;
          }
        }
      } catch (IOException e) {
        guard.throwIfStalled(origin.uri(), done); // the guard closed the body: say why
        throw e;
      }
      guard.throwIfStalled(origin.uri(), done);
    }
    progress.update(done, total);
    if (total >= 0 && done != total) {
      throw new IOException("the body ended after " + done + " of " + total + " bytes");
    }
  }

  /** What one blob's download may take: its stated size, and the disk less its reserve. */
  private final class Bounds {
    private final Origin origin;
    private final Digest digest;
    private final long size;
    private final Path partial;

    Bounds(Origin origin, Digest digest, long size, Path partial) {
      this.origin = origin;
      this.digest = digest;
      this.size = size;
      this.partial = partial;
    }

    /** Refuses a response that says it is bigger than stated, or than the disk can take. */
    void checkStated(long have, long total) throws FetchException, IOException {
      if (size >= 0 && total > size) {
        throw tooBig("says it is " + total + " bytes, more than");
      }
      checkRoom(have, total);
    }

    /** Refuses the byte past the stated size. */
    void checkSent(long done) throws FetchException {
      if (size >= 0 && done > size) {
        throw tooBig("sent more than");
      }
    }

    void checkRoom(long done) throws FetchException, IOException {
      checkRoom(done, Math.max(done, size));
    }

    /** Refuses a blob of {@code expected} bytes the disk cannot hold beside its reserve. */
    private void checkRoom(long done, long expected) throws FetchException, IOException {
      long free = Files.getFileStore(partial.getParent()).getUsableSpace();
      long needed = Math.max(0, expected - done);
      if (free - needed < RESERVE_BYTES) {
        throw new FetchException(
            Reason.NoSpace,
            "blob "
                + digest
                + " from "
                + origin.uri()
                + " needs "
                + needed
                + " more bytes; the node has "
                + free
                + " free and keeps "
                + RESERVE_BYTES
                + " for itself");
      }
    }

    private FetchException tooBig(String what) {
      return new FetchException(
          Reason.SizeLimit,
          "blob "
              + digest
              + " from "
              + origin.uri()
              + " "
              + what
              + " the "
              + size
              + " bytes it is stated to have");
    }
  }
}
