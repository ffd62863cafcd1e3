package io.strata.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A plain HTTP server on loopback, the way layer URLs are served: each path prefix serves the files
 * of one directory by name, answered after a delay if asked (a slow server), at a limited rate if
 * asked (a slow link); a {@code Range: bytes=N-} request gets the rest of the file from byte N; 404
 * for a file that is not there (yet). Each request has a thread of its own, so a late answer holds
 * up no other.
 */
public final class FileServer implements AutoCloseable {
  private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");
  private final HttpServer server;
  private final Map<String, Integer> requests = new ConcurrentHashMap<>();
  private final Map<String, List<String>> ranges = new ConcurrentHashMap<>();

  public FileServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.start();
  }

  /**
   * Serves the files of {@code dir} under {@code prefix} ("/" or "/slow/"), after {@code delay}.
   */
  public FileServer serve(String prefix, Path dir, Duration delay) {
    server.createContext(prefix, files(dir, delay, Long.MAX_VALUE));
    return this;
  }

  /** Serves the files of {@code dir} under {@code prefix} at {@code bytesPerSecond}. */
  public FileServer serveThrottled(String prefix, Path dir, long bytesPerSecond) {
    server.createContext(prefix, files(dir, Duration.ZERO, bytesPerSecond));
    return this;
  }

  /** How many times the file {@code name} under {@code prefix} was asked for. */
  public int requests(String prefix, String name) {
    return requests.getOrDefault(prefix + name, 0);
  }

  /** The Range header of each request for {@code name} under {@code prefix}, "none" if absent. */
  public List<String> ranges(String prefix, String name) {
    return List.copyOf(ranges.getOrDefault(prefix + name, List.of()));
  }

  /** The URL of the file {@code name} under {@code prefix}. */
  public String url(String prefix, String name) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + prefix + name;
  }

  @Override
  public void close() {
    server.stop(0);
  }

  private HttpHandler files(Path dir, Duration delay, long bytesPerSecond) {
    return exchange -> {
      String path = exchange.getRequestURI().getPath();
      requests.merge(path, 1, Integer::sum);
      String range = exchange.getRequestHeaders().getFirst("Range");
      ranges
          .computeIfAbsent(path, p -> new CopyOnWriteArrayList<>())
          .add(range == null ? "none" : range);
      try {
        Thread.sleep(delay);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      Path file = dir.resolve(Path.of(path).getFileName());
      if (!Files.isRegularFile(file)) {
        exchange.sendResponseHeaders(404, -1);
        exchange.close();
        return;
      }
      long size = Files.size(file);
      Matcher from = range == null ? null : RANGE.matcher(range);
      long start = from != null && from.matches() ? Long.parseLong(from.group(1)) : 0;
      if (start > 0) {
        exchange
            .getResponseHeaders()
            .set("Content-Range", "bytes " + start + "-" + (size - 1) + "/" + size);
      }
      exchange.sendResponseHeaders(start > 0 ? 206 : 200, size - start);
      send(exchange, file, start, bytesPerSecond);
    };
  }

  private static void send(HttpExchange exchange, Path file, long start, long bytesPerSecond)
      throws IOException {
    long began = System.nanoTime();
    long sent = 0;
    try (InputStream in = Files.newInputStream(file);
        OutputStream out = exchange.getResponseBody()) {
      in.skipNBytes(start);
      byte[] buffer = new byte[64 << 10];
      for (int n; (n = in.read(buffer)) > 0; ) {
        out.write(buffer, 0, n);
        sent += n;
        long due = began + (long) (sent * 1e9 / bytesPerSecond);
        long wait = due - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(Duration.ofNanos(wait));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
