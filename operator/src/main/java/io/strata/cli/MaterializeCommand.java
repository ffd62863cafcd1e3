package io.strata.cli;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.fetch.BlobFetcher;
import io.strata.layerstore.LayerStore;
import io.strata.layerstore.LayerStore.LayerSource;
import io.strata.layerstore.LayerStore.Materialized;
import io.strata.layout.StoreLayout;
import io.strata.oci.Digest;
import io.strata.registry.Credentials;
import io.strata.registry.ImageReference;
import io.strata.registry.Platform;
import io.strata.registry.RegistryClient;
import io.strata.registry.RegistrySettings;
import io.strata.sys.Syscalls;
import io.strata.tarapply.Limits;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "materialize",
    description =
        "Build the root of a chain of layer files (base first), or of an image in a registry, in"
            + " the node's cache; no cluster needed.")
final class MaterializeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--state-dir",
      paramLabel = "DIR",
      required = true,
      defaultValue = "${env:STRATA_STATE_DIR}",
      description = "The layer cache (env STRATA_STATE_DIR); created if needed.")
  Path stateDir;

  @Option(
      names = "--json",
      description = "Print only one JSON object: chainId, root, files, bytes.")
  boolean json;

  @Option(
      names = "--max-bytes",
      paramLabel = "N",
      defaultValue = "${env:STRATA_MAX_LAYER_BYTES:-68719476736}",
      description = "Refuse a layer that expands past N bytes (default ${DEFAULT-VALUE}).")
  long maxBytes;

  @Parameters(
      paramLabel = "LAYER",
      arity = "0..*",
      description = "A tar, tar+gzip or tar+zstd file, optionally suffixed @sha256:<hex>.")
  List<String> layers = List.of();

  @Option(
      names = "--image",
      paramLabel = "REF",
      description =
          "Instead of layer files: an image in a registry, by tag or digest"
              + " (host[:port]/repository[:tag][@sha256:...]), fetched into the cache first.")
  String image;

  @Option(
      names = "--platform",
      paramLabel = "OS/ARCH",
      defaultValue = "${env:STRATA_PLATFORM}",
      description =
          "The manifest taken from an image index (env STRATA_PLATFORM; default this machine's).")
  String platform;

  @Option(
      names = "--docker-config",
      paramLabel = "FILE",
      defaultValue = "${env:STRATA_DOCKER_CONFIG}",
      description =
          "Registry logins, as docker login writes them (config.json, env STRATA_DOCKER_CONFIG);"
              + " anonymous without it.")
  Path dockerConfig;

  @Mixin RegistryOptions registries;

  @Override
  public Integer call() throws Exception {
    if ((image == null) == layers.isEmpty()) {
      throw new ParameterException(
          spec.commandLine(), "give layer files or --image REF, exactly one of the two");
    }
    StoreLayout layout = new StoreLayout(stateDir);
    LayerStore store =
        new LayerStore(layout, Syscalls.get(), Limits.DEFAULT.withMaxUncompressedBytes(maxBytes));
    store.recover();
    ImageReference pinned = null;
    List<LayerSource> sources = new ArrayList<>();
    if (image != null) {
      ImageFetch fetched = fetchImage(layout);
      pinned = fetched.image();
      sources.addAll(fetched.layers());
    } else {
      for (String layer : layers) {
        sources.add(parse(layer));
      }
    }
    // A bar for a person at a terminal; nothing extra for scripts, nor with --json.
    ProgressBar bar =
        !json && Syscalls.get().stderrIsTerminal() ? new ProgressBar(System.err) : null;
    Materialized made;
    try {
      made = store.materialize(sources, bar == null ? LayerStore.Progress.NONE : bar);
    } finally {
      if (bar != null) {
        bar.finish();
      }
    }
    if (json) {
      Map<String, Object> out = new LinkedHashMap<>();
      if (pinned != null) {
        out.put("image", pinned.toString());
      }
      out.put("chainId", made.chainId().toString());
      out.put("root", made.root().toAbsolutePath().toString());
      out.put("files", made.files());
      out.put("bytes", made.bytes());
      out.put("diffIds", made.diffIds().stream().map(Digest::toString).toList());
      out.put("reused", made.reused());
      spec.commandLine().getOut().println(Serialization.asJson(out));
    } else {
      spec.commandLine()
          .getOut()
          .printf(
              "%s %s at %s (%d files, %d bytes)%n",
              made.reused() ? "already had" : "materialized",
              made.chainId(),
              made.root(),
              made.files(),
              made.bytes());
    }
    spec.commandLine().getOut().flush();
    return 0;
  }

  private record ImageFetch(ImageReference image, List<LayerSource> layers) {}

  /**
   * Pins {@code --image} to a digest, lists its layers (for {@code --platform} from an index) and
   * fetches each blob into the cache, verified, as the agent does; a blob already there is reused.
   */
  private ImageFetch fetchImage(StoreLayout layout) throws Exception {
    ImageReference wanted;
    Platform chosen;
    RegistrySettings settings;
    Credentials credentials;
    try {
      wanted = ImageReference.parse(image);
      chosen =
          platform == null || platform.isBlank() ? Platform.current() : Platform.parse(platform);
      settings = registries.settings();
      credentials =
          dockerConfig == null
              ? Credentials.NONE
              : Credentials.fromDockerConfigJson(Files.readAllBytes(dockerConfig));
    } catch (IllegalArgumentException | IOException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    HttpClient http = settings.httpClient(TIMEOUT);
    RegistryClient registry =
        new RegistryClient(http, settings.hosts(), settings.destinations(), TIMEOUT);
    ImageReference pinned = registry.resolve(wanted, credentials);
    BlobFetcher fetcher =
        new BlobFetcher(
            layout,
            1,
            TIMEOUT,
            BlobFetcher.DEFAULT_STALL_TIMEOUT,
            http,
            settings.destinations(),
            List.of());
    List<LayerSource> sources = new ArrayList<>();
    for (RegistryClient.Layer layer : registry.layers(pinned, chosen, credentials)) {
      Path blob =
          fetcher.fetch(
              registry.origins(pinned, layer.digest(), credentials),
              layer.digest(),
              layer.size(),
              (done, total) -> {});
      sources.add(new LayerSource(blob, layer.digest(), layer.mediaType(), layer.diffId()));
    }
    return new ImageFetch(pinned, sources);
  }

  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private LayerSource parse(String layer) {
    int at = layer.lastIndexOf("@sha256:");
    Path file = Path.of(at < 0 ? layer : layer.substring(0, at)).toAbsolutePath();
    try {
      Digest digest = at < 0 ? null : Digest.parse(layer.substring(at + 1));
      return new LayerSource(file, digest, null);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), layer + ": " + e.getMessage());
    }
  }
}
