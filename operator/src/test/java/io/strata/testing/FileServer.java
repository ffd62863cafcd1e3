package io.strata.testing;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;

/**
 * A plain HTTP server on loopback, the way layer URLs are served: each path prefix serves the files
 * of one directory by name, answered after a delay if asked (a slow server); 404 for a file that is
 * not there (yet). Each request has a thread of its own, so a late answer holds up no other.
 */
public final class FileServer implements AutoCloseable {
  private final HttpServer server;
  private final Map<String, Integer> requests = new ConcurrentHashMap<>();

  public FileServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.start();
  }

  /**
   * Serves the files of {@code dir} under {@code prefix} ("/" or "/slow/"), after {@code delay}.
   */
  public FileServer serve(String prefix, Path dir, Duration delay) {
    server.createContext(prefix, files(dir, delay));
    return this;
  }

  /** How many times the file {@code name} under {@code prefix} was asked for. */
  public int requests(String prefix, String name) {
    return requests.getOrDefault(prefix + name, 0);
  }

  /** The URL of the file {@code name} under {@code prefix}. */
  public String url(String prefix, String name) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + prefix + name;
  }

  @Override
  public void close() {
    server.stop(0);
  }

  private HttpHandler files(Path dir, Duration delay) {
    return exchange -> {
      requests.merge(exchange.getRequestURI().getPath(), 1, Integer::sum);
      try {
        Thread.sleep(delay);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      Path file = dir.resolve(Path.of(exchange.getRequestURI().getPath()).getFileName());
      if (!Files.isRegularFile(file)) {
        exchange.sendResponseHeaders(404, -1);
        exchange.close();
        return;
      }
      byte[] body = Files.readAllBytes(file);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    };
  }
}
