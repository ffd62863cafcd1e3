package io.strata.cli;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.layerstore.LayerStore;
import io.strata.layerstore.LayerStore.LayerSource;
import io.strata.layerstore.LayerStore.Materialized;
import io.strata.layout.StoreLayout;
import io.strata.oci.Digest;
import io.strata.sys.Syscalls;
import io.strata.tarapply.Limits;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "materialize",
    description = "Build the root of a chain of layer files (base first) in the node's cache.")
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
      arity = "1..*",
      description = "A tar, tar+gzip or tar+zstd file, optionally suffixed @sha256:<hex>.")
  List<String> layers;

  @Override
  public Integer call() throws Exception {
    List<LayerSource> sources = new ArrayList<>();
    for (String layer : layers) {
      sources.add(parse(layer));
    }
    StoreLayout layout = new StoreLayout(stateDir);
    LayerStore store =
        new LayerStore(layout, Syscalls.get(), Limits.DEFAULT.withMaxUncompressedBytes(maxBytes));
    store.recover();
    Materialized made = store.materialize(sources);
    if (json) {
      Map<String, Object> out = new LinkedHashMap<>();
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
