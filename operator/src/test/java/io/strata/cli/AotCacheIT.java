package io.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ahead-of-time cache the package phase makes beside the jar (src/aot/train.sh): a {@code
 * materialize} started with it must find the layer store's classes, and the decoders', already
 * loaded from the cache. With {@code -XX:AOTMode=on} the JVM refuses to start when the cache does
 * not fit the jar and the JDK, where the default mode would run without it after a warning.
 */
class AotCacheIT {
  @TempDir Path tmp;

  @Test
  void materializeStartsFromTheCacheTheBuildMade() throws Exception {
    Tools.requireCommand("zstd");
    Path jar = Path.of(System.getProperty("strata.jar", "operator/target/strata.jar"));
    Path cache = Path.of(System.getProperty("strata.aotCache", "operator/target/strata.aot"));
    String java = System.getProperty("strata.java", "java");
    assertThat(cache).as("made by ./mvnw package").isRegularFile();

    Path tree = Files.createDirectories(tmp.resolve("tree/etc"));
    Files.writeString(tree.resolve("hostname"), "cached\n");
    Path layer = tmp.resolve("layer.tar.zst");
    Tools.run(tmp, "tar", "--numeric-owner", "--zstd", "-cf", layer.toString(), "-C", "tree", ".");

    Path classLog = tmp.resolve("class-load.log");
    String output =
        Tools.run(
            tmp,
            java,
            "-XX:AOTCache=" + cache,
            "-XX:AOTMode=on",
            "-Xlog:class+load=info:file=" + classLog,
            "-jar",
            jar.toString(),
            "materialize",
            "--json",
            "--state-dir",
            tmp.resolve("state").toString(),
            layer.toString());

    assertThat(output.lines()).as("one line of JSON, nothing from the JVM").hasSize(1);
    JsonNode made = new ObjectMapper().readTree(output);
    assertThat(Path.of(made.path("root").asText()).resolve("etc/hostname")).hasContent("cached");
    List<String> loaded = Files.readAllLines(classLog);
    for (String name :
        List.of(
            "io.strata.cli.MaterializeCommand",
            "io.strata.layerstore.LayerStore",
            "io.strata.tarapply.TarGuard",
            "io.strata.tarapply.RootWriter",
            "com.github.luben.zstd.ZstdInputStreamNoFinalizer",
            "org.apache.commons.compress.archivers.tar.TarArchiveInputStream")) {
      assertThat(loaded)
          .as("how %s was loaded", name)
          .anyMatch(line -> line.endsWith("] " + name + " source: shared objects file"));
    }
  }
}
