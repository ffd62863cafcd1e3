package io.strata.crd;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.crdv2.generator.CRDGenerator;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.testing.ProjectFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CRDs users apply ({@code crds/}, and the chart's copy) are exactly what the Java model
 * generates. Run with {@code -Dstrata.updateCrds=true} to rewrite them after changing the model.
 */
class CrdFilesTest {
  static final String HEADER =
      "# Generated from operator/src/main/java/io/strata/crd by CrdFilesTest: edit the Java model,\n"
          + "# then run ./mvnw test -Dtest=CrdFilesTest -Dstrata.updateCrds=true\n";

  @Test
  void crdFilesMatchTheJavaModel(@TempDir Path generated) throws IOException {
    List<Class<? extends HasMetadata>> resources =
        List.of(LayerSet.class, OverlayMount.class, NodeLayerState.class);
    new CRDGenerator()
        .customResourceClasses(LayerSet.class, OverlayMount.class, NodeLayerState.class)
        .forCRDVersions("v1")
        .inOutputDir(generated.toFile())
        .generate();

    for (Class<? extends HasMetadata> resource : resources) {
      String name = HasMetadata.getFullResourceName(resource);
      Path fresh = generated.resolve(name + "-v1.yml");
      // The same CRD twice: crds/ for kubectl users, and inside the chart, which Helm cannot
      // read outside its own directory.
      for (Path committed :
          List.of(
              ProjectFiles.crds().resolve(name + ".yaml"),
              ProjectFiles.root().resolve("charts/strata/files/crds").resolve(name + ".yaml"))) {
        if (Boolean.getBoolean("strata.updateCrds")) {
          Files.writeString(committed, HEADER + Files.readString(fresh));
        }
        assertThat(committed).as("the CRD users apply for %s", name).exists();
        assertThat(parse(committed))
            .as("%s agrees with the Java model (rerun with -Dstrata.updateCrds=true)", committed)
            .isEqualTo(parse(fresh));
      }
    }
  }

  private static CustomResourceDefinition parse(Path file) throws IOException {
    return Serialization.unmarshal(Files.readString(file), CustomResourceDefinition.class);
  }
}
