package io.strata.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.fetch.BlobFetcher;
import io.strata.fetch.FetchException;
import io.strata.fetch.FetchException.Reason;
import io.strata.fetch.HttpClients;
import io.strata.fetch.HttpClients.Network;
import io.strata.layout.StoreLayout;
import io.strata.oci.Digest;
import io.strata.testing.Eventually;
import io.strata.testing.LocalRegistry;
import io.strata.testing.TestImages;
import io.strata.testing.TokenIssuer;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry client against Debian's docker-registry on loopback, with images built by umoci and
 * pushed by skopeo: plain, TLS with htpasswd logins, token auth, image indexes, mirrors, and every
 * way a pull fails.
 */
class RegistryClientTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final Platform AMD64 = new Platform("linux", "amd64");
  private static final Platform ARM64 = new Platform("linux", "arm64");
  private static final String REPO = "strata/test";

  @TempDir static Path work;
  static TestImages images;

  @BeforeAll
  static void buildImages() throws Exception {
    images = TestImages.build(work.resolve("images"));
  }

  static Credentials login(String host, String user, String password) {
    String auth =
        Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    String json = "{\"auths\":{\"https://" + host + "/v1/\":{\"auth\":\"" + auth + "\"}}}";
    return Credentials.fromDockerConfigJson(json.getBytes(StandardCharsets.UTF_8));
  }

  private static RegistryClient client(HttpClient http, RegistryHosts hosts) {
    return new RegistryClient(http, hosts, TIMEOUT);
  }

  private static HttpClient http(Path caBundle) throws Exception {
    return HttpClients.create(new Network(caBundle, Map.of()), TIMEOUT);
  }

  @Test
  void aTagResolvesToItsDigestAndListsTheImagesLayers(@TempDir Path dir) throws Exception {
    try (LocalRegistry registry = LocalRegistry.plain(dir)) {
      images.push("v1", registry.host(), REPO, "1.0", null);
      RegistryClient client = client(http(null), RegistryHosts.DEFAULT);
      ImageReference tagged = ImageReference.parse(registry.host() + "/" + REPO + ":1.0");

      ImageReference pinned = client.resolve(tagged, Credentials.NONE);

      assertThat(pinned.digest()).isEqualTo(images.digest("v1"));
      assertThat(pinned.toString()).isEqualTo(registry.host() + "/" + REPO + "@" + pinned.digest());
      List<RegistryClient.Layer> layers = client.layers(pinned, AMD64, Credentials.NONE);
      assertThat(layers)
          .extracting(RegistryClient.Layer::digest)
          .containsExactlyElementsOf(images.layers("v1"));
      assertThat(layers)
          .extracting(RegistryClient.Layer::diffId)
          .containsExactlyElementsOf(images.diffIds("v1"));
    }
  }

  @Test
  void anImageWhoseConfigDoesNotListADiffIdPerLayerIsRefused(@TempDir Path dir) throws Exception {
    try (LocalRegistry registry = LocalRegistry.plain(dir)) {
      images.withDiffIds("v2", "v2-short", diffIds -> diffIds.subList(0, 2));
      images.push("v2-short", registry.host(), REPO, "short", null);
      RegistryClient client = client(http(null), RegistryHosts.DEFAULT);
      ImageReference pinned =
          client.resolve(
              ImageReference.parse(registry.host() + "/" + REPO + ":short"), Credentials.NONE);

      assertThatThrownBy(() -> client.layers(pinned, AMD64, Credentials.NONE))
          .isInstanceOfSatisfying(
              FetchException.class, e -> assertThat(e.reason()).isEqualTo(Reason.UnsupportedImage))
          .hasMessageContaining("lists 2 diffIDs for 3 layers");
    }
  }

  @Test
  void blobsAreFetchedThroughTheAgentsFetcherAndVerified(@TempDir Path dir) throws Exception {
    try (LocalRegistry registry = LocalRegistry.plain(dir.resolve("registry"))) {
      images.push("v1", registry.host(), REPO, "1.0", null);
      HttpClient http = http(null);
      RegistryClient client = client(http, RegistryHosts.DEFAULT);
      ImageReference image =
          ImageReference.parse(registry.host() + "/" + REPO + "@" + images.digest("v1"));
      BlobFetcher fetcher =
          new BlobFetcher(new StoreLayout(dir.resolve("state")), 2, TIMEOUT, http);

      for (RegistryClient.Layer layer : client.layers(image, AMD64, Credentials.NONE)) {
        Path blob =
            fetcher.fetch(
                client.origins(image, layer.digest(), Credentials.NONE),
                layer.digest(),
                (done, total) -> {});
        assertThat(blob).hasSameBinaryContentAs(images.blob(layer.digest()));
      }

      // A registry serving other bytes than the manifest names: the blob never lands.
      Digest first = images.layers("v1").getFirst();
      Path stored =
          dir.resolve("registry/storage/docker/registry/v2/blobs/sha256")
              .resolve(first.hex().substring(0, 2))
              .resolve(first.hex())
              .resolve("data");
      byte[] bytes = Files.readAllBytes(stored);
      bytes[bytes.length / 2] ^= 1;
      Files.write(stored, bytes);
      BlobFetcher fresh = new BlobFetcher(new StoreLayout(dir.resolve("state2")), 2, TIMEOUT, http);
      assertThatThrownBy(
              () ->
                  fresh.fetch(client.origins(image, first, Credentials.NONE), first, (d, t) -> {}))
          .isInstanceOfSatisfying(
              FetchException.class, e -> assertThat(e.reason()).isEqualTo(Reason.DigestMismatch))
          .hasMessageContaining("expected " + first);
      assertThat(fresh.blobPath(first)).doesNotExist();
    }
  }

  @Test
  void anIndexGivesEachPlatformItsOwnManifest(@TempDir Path dir) throws Exception {
    try (LocalRegistry registry = LocalRegistry.plain(dir)) {
      images.push("multi", registry.host(), REPO, "multi", null);
      RegistryClient client = client(http(null), RegistryHosts.DEFAULT);

      ImageReference pinned =
          client.resolve(
              ImageReference.parse(registry.host() + "/" + REPO + ":multi"), Credentials.NONE);

      assertThat(pinned.digest()).isEqualTo(images.digest("multi"));
      assertThat(client.layers(pinned, AMD64, Credentials.NONE))
          .extracting(RegistryClient.Layer::digest)
          .containsExactlyElementsOf(images.layers("v1"));
      assertThat(client.layers(pinned, ARM64, Credentials.NONE))
          .extracting(RegistryClient.Layer::digest)
          .containsExactlyElementsOf(images.layers("v2-arm64"))
          .hasSize(3);
      assertThatThrownBy(
              () -> client.layers(pinned, new Platform("linux", "s390x"), Credentials.NONE))
          .isInstanceOfSatisfying(
              FetchException.class, e -> assertThat(e.reason()).isEqualTo(Reason.UnsupportedImage))
          .hasMessageContaining("no manifest for linux/s390x")
          .hasMessageContaining("linux/amd64, linux/arm64");
    }
  }

  @Test
  void tlsWithBasicAuthNeedsTheCaBundleAndTheRightLogin(@TempDir Path dir) throws Exception {
    try (LocalRegistry registry = LocalRegistry.tlsWithBasicAuth(dir)) {
      images.push(
          "v1", registry.host(), REPO, "1.0", LocalRegistry.USER + ":" + LocalRegistry.PASSWORD);
      ImageReference tagged = ImageReference.parse(registry.host() + "/" + REPO + ":1.0");
      // Loopback registries are reached over plain HTTP unless told otherwise; this one has TLS.
      RegistryHosts tls =
          new RegistryHosts(
              Map.of(registry.host(), List.of(URI.create("https://" + registry.host()))), Set.of());
      Credentials right = login(registry.host(), LocalRegistry.USER, LocalRegistry.PASSWORD);

      assertThat(client(http(registry.certificate()), tls).resolve(tagged, right).digest())
          .isEqualTo(images.digest("v1"));

      assertThatThrownBy(() -> client(http(null), tls).resolve(tagged, right))
          .isInstanceOfSatisfying(
              FetchException.class, e -> assertThat(e.reason()).isEqualTo(Reason.Unreachable))
          .hasMessageContaining("https://" + registry.host())
          .hasMessageContaining("certification path"); // and never plain HTTP instead
      assertThatThrownBy(
              () ->
                  client(http(registry.certificate()), tls)
                      .resolve(tagged, login(registry.host(), LocalRegistry.USER, "wrong")))
          .isInstanceOfSatisfying(
              FetchException.class, e -> assertThat(e.reason()).isEqualTo(Reason.Unauthorized))
          .hasMessageContaining("pull secret")
          .hasMessageNotContaining("wrong");
      assertThatThrownBy(
              () -> client(http(registry.certificate()), tls).resolve(tagged, Credentials.NONE))
          .isInstanceOfSatisfying(
              FetchException.class, e -> assertThat(e.reason()).isEqualTo(Reason.Unauthorized))
          .hasMessageContaining("no pull secret");
    }
  }

  @Test
  void tokenAuthGetsARepositoryScopedTokenAndRenewsIt(@TempDir Path dir) throws Exception {
    try (TokenIssuer issuer = new TokenIssuer(dir.resolve("issuer"), Duration.ofSeconds(2));
        LocalRegistry registry = LocalRegistry.withTokenAuth(dir.resolve("registry"), issuer)) {
      images.push(
          "v1", registry.host(), REPO, "1.0", LocalRegistry.USER + ":" + LocalRegistry.PASSWORD);
      Credentials right = login(registry.host(), LocalRegistry.USER, LocalRegistry.PASSWORD);
      RegistryClient client = client(http(null), RegistryHosts.DEFAULT);
      ImageReference tagged = ImageReference.parse(registry.host() + "/" + REPO + ":1.0");
      int before = issuer.issued();

      ImageReference pinned = client.resolve(tagged, right);
      assertThat(client.layers(pinned, AMD64, right)).hasSize(2);
      assertThat(issuer.issued() - before).isEqualTo(1); // one token serves both requests
      assertThat(issuer.scopes().getLast()).isEqualTo("repository:" + REPO + ":pull");

      // Until the registry refuses that token.
      Eventually.within(
          Duration.ofSeconds(10),
          () -> assertThat(Instant.now()).isAfter(issuer.lastExpiry().plusSeconds(1)));
      assertThat(client.layers(pinned, AMD64, right)).hasSize(2);
      assertThat(issuer.issued() - before).isEqualTo(2);

      assertThatThrownBy(
              () -> client.resolve(tagged, login(registry.host(), LocalRegistry.USER, "nope")))
          .isInstanceOfSatisfying(
              FetchException.class, e -> assertThat(e.reason()).isEqualTo(Reason.Unauthorized))
          .hasMessageContaining("token service");
    }
  }

  @Test
  void aMissingTagAndAnUnreachableRegistryEachSaySo(@TempDir Path dir) throws Exception {
    LocalRegistry registry = LocalRegistry.plain(dir);
    images.push("v1", registry.host(), REPO, "1.0", null);
    RegistryClient client = client(http(null), RegistryHosts.DEFAULT);

    assertThatThrownBy(
            () ->
                client.resolve(
                    ImageReference.parse(registry.host() + "/" + REPO + ":nope"), Credentials.NONE))
        .isInstanceOfSatisfying(
            FetchException.class, e -> assertThat(e.reason()).isEqualTo(Reason.NotFound))
        .hasMessageContaining(REPO + ":nope");

    registry.stop();
    assertThatThrownBy(
            () ->
                client.resolve(
                    ImageReference.parse(registry.host() + "/" + REPO + ":1.0"), Credentials.NONE))
        .isInstanceOfSatisfying(
            FetchException.class, e -> assertThat(e.reason()).isEqualTo(Reason.Unreachable))
        .hasMessageContaining("http://" + registry.host());
  }

  @Test
  void aMirrorIsPreferredWhenUpAndSkippedWhenDown(@TempDir Path dir) throws Exception {
    try (LocalRegistry origin = LocalRegistry.plain(dir.resolve("origin"));
        LocalRegistry mirror = LocalRegistry.plain(dir.resolve("mirror"))) {
      // The same tag names different images on each, so the answer shows who gave it.
      images.push("v1", origin.host(), REPO, "1.0", null);
      images.push("v2", mirror.host(), REPO, "1.0", null);
      RegistryHosts hosts =
          RegistryHosts.parse(List.of(origin.host() + "=http://" + mirror.host()), List.of());
      RegistryClient client = client(http(null), hosts);
      ImageReference tagged = ImageReference.parse(origin.host() + "/" + REPO + ":1.0");

      assertThat(client.resolve(tagged, Credentials.NONE).digest()).isEqualTo(images.digest("v2"));

      mirror.stop();
      assertThat(client.resolve(tagged, Credentials.NONE).digest()).isEqualTo(images.digest("v1"));
    }
  }

  @Test
  void referencesMustNameTheirRegistry() {
    assertThat(ImageReference.parse("registry.example:5000/team/app:1.2"))
        .isEqualTo(new ImageReference("registry.example:5000", "team/app", "1.2", null));
    assertThat(ImageReference.parse("localhost/app").tag()).isEqualTo("latest");
    for (String bad :
        Stream.of(
                "team/app:1.0",
                "app",
                "registry.example/Team/app",
                "registry.example/app:bad tag",
                "registry.example/app@sha256:short",
                "registry.example/../etc/passwd")
            .toList()) {
      assertThatThrownBy(() -> ImageReference.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("image");
    }
  }
}
