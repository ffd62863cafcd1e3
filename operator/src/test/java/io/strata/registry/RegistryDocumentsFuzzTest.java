package io.strata.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.strata.layerstore.Digest;
import io.strata.tarapply.LayerException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzes the registry client's manifest, index and config parsing through its real path: a registry
 * on loopback serves generated documents (well-formed, half-formed and raw bytes), and {@link
 * RegistryClient#resolve} and {@link RegistryClient#layers} either list layers that each have a
 * sha256 digest, a tar media type and a diffID, or fail with a {@link LayerException}; never
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

  @BeforeContainer
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
                .connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER)
                .build(),
            RegistryHosts.DEFAULT,
            Duration.ofSeconds(10));
  }

  @AfterContainer
  static void stop() {
    server.stop(0);
  }

  /** A value that is sometimes right, sometimes of the wrong type, sometimes missing. */
  private static Arbitrary<Object> oneOf(Object... values) {
    return Arbitraries.oneOf(
        Arbitraries.of(values),
        Arbitraries.of((Object) null, 2, -1, Long.MAX_VALUE, "", "x", List.of(), Map.of()));
  }

  @Provide
  Arbitrary<Map<String, Object>> layers() {
    return Combinators.combine(
            oneOf(LAYER_TYPES.toArray()),
            oneOf("sha256:" + "a".repeat(64), "sha256:" + "b".repeat(64), "sha256:XYZ", "md5:00"),
            oneOf(0L, 10L, 1L << 40))
        .as(
            (type, digest, size) -> {
              Map<String, Object> layer = new java.util.HashMap<>();
              put(layer, "mediaType", type);
              put(layer, "digest", digest);
              put(layer, "size", size);
              return layer;
            });
  }

  /** What the registry serves for one image: a manifest or an index over one, and a config. */
  record Image(
      Object schema,
      Object topType,
      boolean indexed,
      Object configType,
      List<Map<String, Object>> layers,
      Object rootfsType,
      int diffIds,
      Object platformOs,
      byte[] raw) {}

  @Provide
  Arbitrary<Image> images() {
    return Combinators.combine(
            oneOf(2, 1, "2"),
            oneOf(OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, "text/html"),
            Arbitraries.of(true, false),
            oneOf(
                "application/vnd.oci.image.config.v1+json",
                "application/vnd.docker.container.image.v1+json",
                "application/vnd.oci.empty.v1+json"),
            layers().list().ofMaxSize(5),
            oneOf("layers", "other"),
            Arbitraries.integers().between(0, 6),
            oneOf("linux", "windows"))
        .as(
            (schema, type, indexed, config, layers, rootfs, diffIds, os) ->
                new Image(schema, type, indexed, config, layers, rootfs, diffIds, os, null))
        .flatMap(
            image ->
                Arbitraries.oneOf(
                    Arbitraries.just(image),
                    Arbitraries.bytes()
                        .array(byte[].class)
                        .ofMaxSize(64)
                        .map(
                            raw ->
                                new Image(
                                    image.schema(),
                                    image.topType(),
                                    image.indexed(),
                                    image.configType(),
                                    image.layers(),
                                    image.rootfsType(),
                                    image.diffIds(),
                                    image.platformOs(),
                                    raw))));
  }

  @Property
  void documentsAreListedAsValidLayersOrRefusedWithAReason(@ForAll("images") Image image)
      throws Exception {
    served.clear();
    String repo = "/v2/team/app/";
    ObjectNode config = JSON.objectNode();
    ObjectNode rootfs = config.putObject("rootfs");
    put(rootfs, "type", image.rootfsType());
    ArrayNode diffIds = rootfs.putArray("diff_ids");
    for (int i = 0; i < image.diffIds(); i++) {
      diffIds.add("sha256:" + String.valueOf((char) ('0' + i)).repeat(64));
    }
    byte[] configBytes = MAPPER.writeValueAsBytes(config);
    Digest configDigest = Digest.of(configBytes);
    served.put(repo + "blobs/" + configDigest, configBytes);

    ObjectNode manifest = JSON.objectNode();
    put(manifest, "schemaVersion", image.schema());
    put(manifest, "mediaType", image.indexed() ? OCI_MANIFEST : image.topType());
    ObjectNode configRef = manifest.putObject("config");
    put(configRef, "mediaType", image.configType());
    configRef.put("digest", configDigest.toString());
    ArrayNode layers = manifest.putArray("layers");
    for (Map<String, Object> layer : image.layers()) {
      layers.add(MAPPER.valueToTree(layer));
    }
    byte[] manifestBytes =
        image.raw() != null && !image.indexed() ? image.raw() : MAPPER.writeValueAsBytes(manifest);
    Digest manifestDigest = Digest.of(manifestBytes);
    served.put(repo + "manifests/" + manifestDigest, manifestBytes);

    byte[] top = manifestBytes;
    if (image.indexed()) {
      ObjectNode index = JSON.objectNode();
      put(index, "schemaVersion", image.schema());
      put(index, "mediaType", image.topType());
      ObjectNode entry = index.putArray("manifests").addObject();
      entry.put("mediaType", OCI_MANIFEST);
      entry.put("digest", manifestDigest.toString());
      ObjectNode platform = entry.putObject("platform");
      put(platform, "os", image.platformOs());
      platform.put("architecture", "amd64");
      top = image.raw() != null ? image.raw() : MAPPER.writeValueAsBytes(index);
      served.put(repo + "manifests/" + Digest.of(top), top);
    }
    served.put(repo + "manifests/1.0", top);

    ImageReference tagged =
        ImageReference.parse("127.0.0.1:" + server.getAddress().getPort() + "/team/app:1.0");
    try {
      ImageReference pinned = client.resolve(tagged, Credentials.NONE);
      List<RegistryClient.Layer> listed =
          client.layers(pinned, new Platform("linux", "amd64"), Credentials.NONE);
      assertThat(listed).isNotEmpty().hasSizeLessThanOrEqualTo(128);
      for (RegistryClient.Layer layer : listed) {
        assertThat(layer.digest()).isNotNull();
        assertThat(LAYER_TYPES).contains(layer.mediaType());
        assertThat(layer.diffId()).isNotNull();
      }
    } catch (LayerException e) {
      assertThat(e.reason()).as(e.getMessage()).isNotNull();
    }
  }

  private static void put(ObjectNode node, String key, Object value) {
    if (value != null) {
      node.set(key, MAPPER.valueToTree(value));
    }
  }

  private static void put(Map<String, Object> map, String key, Object value) {
    if (value != null) {
      map.put(key, value);
    }
  }
}
