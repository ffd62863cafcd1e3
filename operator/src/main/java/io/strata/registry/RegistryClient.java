package io.strata.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.fetch.BlobFetcher;
import io.strata.fetch.Destinations;
import io.strata.fetch.FetchException;
import io.strata.fetch.FetchException.Reason;
import io.strata.fetch.RefusedException;
import io.strata.oci.Digest;
import io.strata.oci.MediaTypes;
import io.strata.registry.Credentials.Login;
import io.strata.registry.RegistryHosts.Endpoint;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

/**
 * Reads images from registries over the OCI distribution API: resolves a tag to a manifest digest,
 * picks a platform's manifest from an index, lists the layer blobs, and hands out the places to
 * fetch each blob from (mirrors first) for {@link BlobFetcher}, which verifies every byte.
 * Manifests are verified against the digest that named them; nothing a registry says is trusted
 * beyond what its digest proves.
 */
public final class RegistryClient {
  /** Manifests and image configs are small JSON; anything bigger is refused unread. */
  static final int MAX_DOCUMENT_BYTES = 4 << 20;

  /**
   * One layer of an image: what {@link BlobFetcher} and the layer store need. {@code diffId} is the
   * digest of its uncompressed tar as the image's config lists it; the layer store checks it.
   */
  public record Layer(Digest digest, String mediaType, long size, Digest diffId) {
    Layer withDiffId(Digest listed) {
      return new Layer(digest, mediaType, size, listed);
    }
  }

  private final HttpClient http;
  private final Destinations destinations;
  private final RegistryHosts hosts;
  private final Duration timeout;
  private final ObjectMapper json = new ObjectMapper();
  private final Map<SessionKey, RegistrySession> sessions = new ConcurrentHashMap<>();

  /** Registries found to speak plain HTTP only, so blobs are not asked over TLS first each time. */
  private final Set<String> plainOnly = ConcurrentHashMap.newKeySet();

  public RegistryClient(HttpClient http, RegistryHosts hosts, Duration timeout) {
    this(http, hosts, Destinations.DEFAULT, timeout);
  }

  /** Requests go only where {@code destinations} allows, redirects included. */
  public RegistryClient(
      HttpClient http, RegistryHosts hosts, Destinations destinations, Duration timeout) {
    this.destinations = destinations;
    this.http = http;
    this.hosts = hosts;
    this.timeout = timeout;
  }

  /**
   * {@code image} pinned to the digest of the manifest or index its tag names now (a reference that
   * already has a digest is returned as it is, unasked).
   */
  public ImageReference resolve(ImageReference image, Credentials credentials)
      throws FetchException, InterruptedException {
    if (image.digest() != null) {
      return image.pinned(image.digest());
    }
    return image.pinned(manifest(image, image.tag(), credentials).digest());
  }

  /**
   * The layers, base first, of pinned {@code image}; from an index, of the manifest for {@code
   * platform}.
   */
  public List<Layer> layers(ImageReference image, Platform platform, Credentials credentials)
      throws FetchException, InterruptedException {
    if (image.digest() == null) {
      throw new IllegalArgumentException(image + " is not pinned to a digest");
    }
    Manifest top = manifest(image, image.digest().toString(), credentials);
    Manifest manifest = top;
    if (isIndex(top.mediaType())) {
      Digest chosen = choose(image, top, platform);
      manifest = manifest(image, chosen.toString(), credentials);
      if (isIndex(manifest.mediaType())) {
        throw new FetchException(
            Reason.UnsupportedImage, image + ": the index for " + platform + " is an index again");
      }
    }
    List<Layer> layers = layersOf(image, manifest); // checked before the config is fetched
    List<Digest> diffIds = diffIds(image, manifest, credentials, layers.size());
    return IntStream.range(0, layers.size())
        .mapToObj(i -> layers.get(i).withDiffId(diffIds.get(i)))
        .toList();
  }

  /** Where blob {@code digest} of {@code image}'s repository can be fetched from, in order. */
  public List<BlobFetcher.Origin> origins(
      ImageReference image, Digest digest, Credentials credentials) {
    List<BlobFetcher.Origin> origins = new ArrayList<>();
    for (Endpoint endpoint : endpoints(image.registry())) {
      RegistrySession session = session(endpoint, image.repository(), credentials);
      URI uri = api(endpoint, image.repository(), "blobs", digest.toString());
      origins.add(
          new BlobFetcher.Origin(
              uri, request -> session.send(request, HttpResponse.BodyHandlers.ofInputStream())));
    }
    return origins;
  }

  /** A manifest or index, verified: its bytes have {@code digest}. */
  record Manifest(Digest digest, String mediaType, JsonNode document) {}

  /**
   * The diffIDs the image's config lists, one per layer, base first. The config is fetched as a
   * blob and verified against the digest the manifest gives it.
   */
  private List<Digest> diffIds(
      ImageReference image, Manifest manifest, Credentials credentials, int layers)
      throws FetchException, InterruptedException {
    Digest digest;
    try {
      digest = Digest.parse(manifest.document().path("config").path("digest").asText(""));
    } catch (IllegalArgumentException e) {
      throw new FetchException(
          Reason.UnsupportedImage, image + ": its config has no sha256 digest");
    }
    Document config = document(image, "blobs", digest.toString(), "*/*", credentials, "config");
    Digest served = Digest.of(config.bytes());
    if (!served.equals(digest)) {
      throw new FetchException(
          Reason.DigestMismatch,
          config.uri() + " served a config with digest " + served + ", expected " + digest);
    }
    JsonNode rootfs;
    try {
      rootfs = json.readTree(config.bytes()).path("rootfs");
    } catch (IOException e) {
      throw new FetchException(Reason.UnsupportedImage, config.uri() + " is not a JSON config");
    }
    JsonNode listed = rootfs.path("diff_ids");
    if (!"layers".equals(rootfs.path("type").asText()) || listed.size() != layers) {
      throw new FetchException(
          Reason.UnsupportedImage,
          image + ": its config lists " + listed.size() + " diffIDs for " + layers + " layers");
    }
    List<Digest> diffIds = new ArrayList<>();
    for (JsonNode diffId : listed) {
      try {
        diffIds.add(Digest.parse(diffId.asText("")));
      } catch (IllegalArgumentException e) {
        throw new FetchException(
            Reason.UnsupportedImage, image + ": its config lists a diffID that is not sha256");
      }
    }
    return diffIds;
  }

  /**
   * Fetches manifest {@code reference} (a tag or digest) from the first endpoint that has it. A
   * mirror that fails for any reason is skipped; the registry's own answer is the one reported.
   */
  private Manifest manifest(ImageReference image, String reference, Credentials credentials)
      throws FetchException, InterruptedException {
    String accept =
        String.join(
            ", ",
            MediaTypes.OCI_INDEX,
            MediaTypes.OCI_MANIFEST,
            MediaTypes.DOCKER_LIST,
            MediaTypes.DOCKER_MANIFEST);
    Document d = document(image, "manifests", reference, accept, credentials, "manifest");
    return parse(image, reference, d.uri(), d.bytes(), d.headers());
  }

  /** A small JSON document as one endpoint served it. */
  private record Document(URI uri, byte[] bytes, HttpHeaders headers) {}

  /**
   * Fetches {@code kind/reference} ({@code manifests} or {@code blobs}), at most {@link
   * #MAX_DOCUMENT_BYTES}, from the first endpoint that has it; {@code what} names it in errors.
   */
  private Document document(
      ImageReference image,
      String kind,
      String reference,
      String accept,
      Credentials credentials,
      String what)
      throws FetchException, InterruptedException {
    FetchException last = null;
    for (Endpoint endpoint : endpoints(image.registry())) {
      URI uri = api(endpoint, image.repository(), kind, reference);
      HttpRequest.Builder request =
          HttpRequest.newBuilder(uri).timeout(timeout).header("Accept", accept).GET();
      try {
        HttpResponse<InputStream> response =
            session(endpoint, image.repository(), credentials)
                .send(request, HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream body = response.body()) {
          int status = response.statusCode();
          if (status != 200) {
            last = refusal(image, reference, uri, status);
            if (!endpoint.mirror()) {
              throw last; // the registry itself answered: that is the answer
            }
            continue;
          }
          byte[] bytes = body.readNBytes(MAX_DOCUMENT_BYTES + 1);
          if (bytes.length > MAX_DOCUMENT_BYTES) {
            throw new FetchException(
                Reason.UnsupportedImage, uri + ": a " + what + " larger than 4 MiB is refused");
          }
          return new Document(uri, bytes, response.headers());
        }
      } catch (RefusedException e) {
        last = new FetchException(e.reason(), e.getMessage(), e);
        if (!endpoint.mirror()) {
          throw last;
        }
      } catch (javax.net.ssl.SSLException e) {
        last =
            new FetchException(
                Reason.Unreachable, "TLS with " + endpoint.base() + " failed: " + describe(e), e);
        if (endpoint.plainFallback() && !isCertificateProblem(e)) {
          plainOnly.add(endpoint.host()); // it does not speak TLS: plain HTTP is allowed here
        } else if (!endpoint.mirror()) {
          throw last; // an untrusted certificate is never a reason to drop TLS
        }
      } catch (IOException e) {
        last =
            new FetchException(
                Reason.Unreachable,
                "registry " + endpoint.base() + " is unreachable: " + describe(e),
                e);
        if (endpoint.plainFallback()) {
          throw last; // nothing listens: plain HTTP on the same port will not either
        }
      }
    }
    throw last;
  }

  /** The endpoints of {@code registry}, without TLS for one found not to speak it. */
  private List<Endpoint> endpoints(String registry) {
    List<Endpoint> all = hosts.endpoints(registry);
    return all.stream().filter(e -> !(e.plainFallback() && plainOnly.contains(e.host()))).toList();
  }

  private static boolean isCertificateProblem(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.security.cert.CertificateException
          || t instanceof java.security.GeneralSecurityException) {
        return true;
      }
    }
    return false;
  }

  private Manifest parse(
      ImageReference image, String reference, URI uri, byte[] bytes, HttpHeaders headers)
      throws FetchException {
    Digest actual = Digest.of(bytes);
    if (reference.startsWith("sha256:") && !actual.toString().equals(reference)) {
      throw new FetchException(
          Reason.DigestMismatch,
          uri + " served a manifest with digest " + actual + ", expected " + reference);
    }
    JsonNode document;
    try {
      document = json.readTree(bytes);
    } catch (IOException e) {
      throw new FetchException(Reason.UnsupportedImage, uri + " is not a JSON manifest");
    }
    if (document == null || document.path("schemaVersion").asInt() != 2) {
      throw new FetchException(
          Reason.UnsupportedImage,
          image + ": only schema version 2 manifests (OCI or Docker) are supported");
    }
    String mediaType = document.path("mediaType").asText("");
    if (mediaType.isEmpty()) {
      mediaType = headers.firstValue("Content-Type").orElse("").split(";")[0].trim();
    }
    if (mediaType.isEmpty() && document.has("manifests")) {
      mediaType = MediaTypes.OCI_INDEX;
    } else if (mediaType.isEmpty() && document.has("layers")) {
      mediaType = MediaTypes.OCI_MANIFEST;
    }
    if (!isIndex(mediaType)
        && !MediaTypes.OCI_MANIFEST.equals(mediaType)
        && !MediaTypes.DOCKER_MANIFEST.equals(mediaType)) {
      throw new FetchException(
          Reason.UnsupportedImage,
          image
              + ": "
              + (mediaType.isEmpty() ? "an untyped document" : mediaType)
              + " is not an image manifest or index");
    }
    return new Manifest(actual, mediaType, document);
  }

  private static boolean isIndex(String mediaType) {
    return MediaTypes.OCI_INDEX.equals(mediaType) || MediaTypes.DOCKER_LIST.equals(mediaType);
  }

  /** The manifest of {@code index} for {@code platform}. */
  private static Digest choose(ImageReference image, Manifest index, Platform platform)
      throws FetchException {
    List<String> offered = new ArrayList<>();
    for (JsonNode entry : index.document().path("manifests")) {
      JsonNode p = entry.path("platform");
      String os = p.path("os").asText("");
      String architecture = p.path("architecture").asText("");
      String type = entry.path("mediaType").asText("");
      if (!MediaTypes.OCI_MANIFEST.equals(type) && !MediaTypes.DOCKER_MANIFEST.equals(type)) {
        continue; // nested indexes, attestations and other artifacts
      }
      offered.add(os + "/" + architecture);
      if (os.equals(platform.os()) && architecture.equals(platform.architecture())) {
        try {
          return Digest.parse(entry.path("digest").asText(""));
        } catch (IllegalArgumentException e) {
          throw new FetchException(
              Reason.UnsupportedImage,
              image + ": the " + platform + " manifest has no sha256 digest");
        }
      }
    }
    throw new FetchException(
        Reason.UnsupportedImage,
        image
            + " has no manifest for "
            + platform
            + " (it has "
            + (offered.isEmpty() ? "none" : String.join(", ", offered))
            + ")");
  }

  private static List<Layer> layersOf(ImageReference image, Manifest manifest)
      throws FetchException {
    String configType = manifest.document().path("config").path("mediaType").asText("");
    if (!MediaTypes.CONFIGS.contains(configType)) {
      throw new FetchException(
          Reason.UnsupportedImage,
          image
              + " is not a container image (its config is "
              + (configType.isEmpty() ? "untyped" : configType)
              + ")");
    }
    JsonNode entries = manifest.document().path("layers");
    if (!entries.isArray() || entries.isEmpty()) {
      throw new FetchException(Reason.UnsupportedImage, image + " has no layers");
    }
    if (entries.size() > 128) {
      throw new FetchException(
          Reason.UnsupportedImage, image + " has " + entries.size() + " layers; at most 128");
    }
    List<Layer> layers = new ArrayList<>();
    int i = 0;
    for (JsonNode entry : entries) {
      String type = entry.path("mediaType").asText("");
      String where = image + " layer " + i++;
      if (type.contains("foreign") || type.contains("nondistributable")) {
        throw new FetchException(
            Reason.UnsupportedImage,
            where
                + " is foreign or non-distributable ("
                + type
                + "); Strata fetches only layers the registry holds");
      }
      if (!MediaTypes.LAYERS.contains(type)) {
        throw new FetchException(
            Reason.UnsupportedMediaType,
            where + " has media type " + (type.isEmpty() ? "(none)" : type) + ", not a tar layer");
      }
      Digest digest;
      try {
        digest = Digest.parse(entry.path("digest").asText(""));
      } catch (IllegalArgumentException e) {
        throw new FetchException(Reason.UnsupportedImage, where + " has no sha256 digest");
      }
      layers.add(new Layer(digest, type, entry.path("size").asLong(-1), null));
    }
    return layers;
  }

  private static FetchException refusal(
      ImageReference image, String reference, URI uri, int status) {
    return switch (status) {
      case 401, 403 ->
          new FetchException(
              Reason.Unauthorized,
              uri.getAuthority()
                  + " refused access to "
                  + image.repository()
                  + " (HTTP "
                  + status
                  + "): check the pull secret");
      case 404 ->
          new FetchException(
              Reason.NotFound,
              uri.getAuthority()
                  + " has no "
                  + image.repository()
                  + (reference.startsWith("sha256:") ? "@" : ":")
                  + reference);
      default ->
          new FetchException(
              status >= 500 ? Reason.Unreachable : Reason.IOError,
              uri + " answered HTTP " + status);
    };
  }

  private static URI api(Endpoint endpoint, String repository, String kind, String reference) {
    String base = endpoint.base().toString().replaceAll("/+$", "");
    return URI.create(base + "/v2/" + repository + "/" + kind + "/" + reference);
  }

  private static String describe(IOException e) {
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }

  private record SessionKey(URI base, String repository, Login login) {}

  private RegistrySession session(Endpoint endpoint, String repository, Credentials credentials) {
    Login login = credentials.forHost(endpoint.host()).orElse(null);
    return sessions.computeIfAbsent(
        new SessionKey(endpoint.base(), repository, login),
        k -> new RegistrySession(http, destinations, repository, login, timeout));
  }
}
