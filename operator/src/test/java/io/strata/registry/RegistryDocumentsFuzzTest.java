package io.strata.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.strata.fetch.FetchException;
import io.strata.oci.Digest;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes the registry client's manifest, index and config parsing through its real path: a registry
 * on loopback serves generated documents (well-formed, half-formed and raw bytes), and {@link
 * RegistryClient#resolve} and {@link RegistryClient#layers} either list layers that each have a
 * sha256 digest, a tar media type and a diffID, or fail with a {@link FetchException}; never
 * another exception. Tries: {@code jqwik.tries.default}.
 */
class RegistryDocumentsFuzzTest {
  private static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  private static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
  private static final String DOCKER_MANIFEST =
      "application/vnd.docker.distribution.manifest.v2+json";
  private static final Set<String> LAYER_TYPES =
      Set.of(
          "application/vnd.oci.image.layer.v1.tar",
          "application/vnd.oci.image.layer.v1.tar+gzip",
          "application/vnd.oci.image.layer.v1.tar+zstd",
          "application/vnd.docker.image.rootfs.diff.tar.gzip",
          "application/vnd.docker.image.rootfs.diff.tar");

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Map<String, byte[]> served = new ConcurrentHashMap<>();
  private static HttpServer server;
  private static RegistryClient client;

  @BeforeAll
  static void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/v2/",
        exchange -> {
          byte[] body = served.get(exchange.getRequestURI().getPath());
          if (body == null) {
            exchange.sendResponseHeaders(404, -1);
          } else {
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
              out.write(body);
            }
          }
          exchange.close();
        });
    server.setExecutor(Executors.newCachedThreadPool());
    server.start();
    client =
        new RegistryClient(
            HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofMillis(500)) // loopback: a TLS try fails at once
                .followRedirects(HttpClient.Redirect.NEVER)
                .build(),
            // The server is its own plain-HTTP mirror, so documents come without a TLS try.
            RegistryHosts.parse(List.of(host() + "=http://" + host()), List.of()),
            Duration.ofSeconds(10));
  }

  private static String host() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  @AfterAll
  static void stop() {
    server.stop(0);
  }

  /** Something right, of the wrong type, or missing (null), as the fuzzer picks. */
  private static Object pick(FuzzedDataProvider data, Object... right) {
    return data.consumeBoolean()
        ? data.pickValue(right)
        : data.pickValue(
            new Object[] {
              null, 2, -1, Long.MAX_VALUE, "", data.consumeString(40), List.of(), Map.of()
            });
  }

  @FuzzTest(maxDuration = "30s")
  void documentsAreListedAsValidLayersOrRefusedWithAReason(FuzzedDataProvider data)
      throws Exception {
    // The one server this target talks to: Jazzer's SSRF detector refuses any other.
    try (var only =
        BugDetectors.allowNetworkConnections(
            (host, port) ->
                port == server.getAddress().getPort()
                    && (host.equals("127.0.0.1") || host.equals("localhost")))) {
      listOrRefuse(data);
    }
  }

  private void listOrRefuse(FuzzedDataProvider data) throws Exception {
    served.clear();
    String repo = "/v2/team/app/";
    boolean indexed = data.consumeBoolean();
    ObjectNode config = JSON.objectNode();
    ObjectNode rootfs = config.putObject("rootfs");
    put(rootfs, "type", pick(data, "layers"));
    ArrayNode diffIds = rootfs.putArray("diff_ids");
    int listed = data.consumeInt(0, 6);
    for (int i = 0; i < listed; i++) {
      diffIds.add("sha256:" + String.valueOf((char) ('0' + i)).repeat(64));
    }
    byte[] configBytes = MAPPER.writeValueAsBytes(config);
    Digest configDigest = Digest.of(configBytes);
    served.put(repo + "blobs/" + configDigest, configBytes);

    ObjectNode manifest = JSON.objectNode();
    put(manifest, "schemaVersion", pick(data, 2));
    put(manifest, "mediaType", pick(data, OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX));
    ObjectNode configRef = manifest.putObject("config");
    put(
        configRef,
        "mediaType",
        pick(
            data,
            "application/vnd.oci.image.config.v1+json",
            "application/vnd.docker.container.image.v1+json"));
    configRef.put("digest", configDigest.toString());
    ArrayNode layers = manifest.putArray("layers");
    int count = data.consumeInt(0, 5);
    for (int i = 0; i < count; i++) {
      ObjectNode layer = layers.addObject();
      put(layer, "mediaType", pick(data, LAYER_TYPES.toArray()));
      put(layer, "digest", pick(data, "sha256:" + "a".repeat(64), "sha256:XYZ"));
      put(layer, "size", pick(data, 0L, 10L, 1L << 40));
    }
    boolean raw = data.consumeBoolean();
    byte[] manifestBytes =
        raw && !indexed ? data.consumeRemainingAsBytes() : MAPPER.writeValueAsBytes(manifest);
    Digest manifestDigest = Digest.of(manifestBytes);
    served.put(repo + "manifests/" + manifestDigest, manifestBytes);

    byte[] top = manifestBytes;
    if (indexed) {
      ObjectNode index = JSON.objectNode();
      put(index, "schemaVersion", pick(data, 2));
      put(index, "mediaType", pick(data, OCI_INDEX));
      ObjectNode entry = index.putArray("manifests").addObject();
      entry.put("mediaType", OCI_MANIFEST);
      entry.put("digest", manifestDigest.toString());
      ObjectNode platform = entry.putObject("platform");
      put(platform, "os", pick(data, "linux"));
      platform.put("architecture", "amd64");
      top = raw ? data.consumeRemainingAsBytes() : MAPPER.writeValueAsBytes(index);
      served.put(repo + "manifests/" + Digest.of(top), top);
    }
    served.put(repo + "manifests/1.0", top);

    ImageReference tagged =
        ImageReference.parse("127.0.0.1:" + server.getAddress().getPort() + "/team/app:1.0");
    try {
      ImageReference pinned = client.resolve(tagged, Credentials.NONE);
      List<RegistryClient.Layer> got =
          client.layers(pinned, new Platform("linux", "amd64"), Credentials.NONE);
      assertThat(got).isNotEmpty().hasSizeLessThanOrEqualTo(128);
      for (RegistryClient.Layer layer : got) {
        assertThat(layer.digest()).isNotNull();
        assertThat(LAYER_TYPES).contains(layer.mediaType());
        assertThat(layer.diffId()).isNotNull();
      }
    } catch (FetchException e) {
      assertThat(e.reason()).as(e.getMessage()).isNotNull();
    }
  }

  private static void put(ObjectNode node, String key, Object value) {
    if (value != null) {
      node.set(key, MAPPER.valueToTree(value));
    }
  }
}
