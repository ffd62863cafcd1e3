package io.strata.crd;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.testing.ProjectFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The example LayerSet names the layer files the run command serves, with their true digests. */
class ExamplesTest {
  @Test
  void exampleLayerDigestsMatchTheServedFiles() throws Exception {
    LayerSet example =
        Serialization.unmarshal(
            Files.readString(ProjectFiles.examples().resolve("layerset.yaml")), LayerSet.class);
    assertThat(example.getSpec().layers).isNotEmpty();
    for (LayerSet.Layer layer : example.getSpec().layers) {
      String file = layer.url.substring(layer.url.lastIndexOf('/') + 1);
      Path blob = ProjectFiles.examples().resolve("layers").resolve(file);
      byte[] sha256 = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(blob));
      assertThat(layer.digest).as(file).isEqualTo("sha256:" + HexFormat.of().formatHex(sha256));
    }
  }
}
