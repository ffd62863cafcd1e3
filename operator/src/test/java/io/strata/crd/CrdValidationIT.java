package io.strata.crd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.testing.ControlPlane;
import io.strata.testing.ProjectFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The CRDs in crds/, installed in a real API server, accept the examples and reject bad input. */
class CrdValidationIT {
  private static KubernetesClient client;

  @BeforeAll
  static void connect() {
    client = ControlPlane.shared().adminClient();
  }

  @AfterAll
  static void close() {
    client.close();
  }

  @Test
  void examplesApplyAsTheyAre() throws IOException {
    try (Stream<Path> files = Files.list(ProjectFiles.examples())) {
      List<Path> yamls = files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
      assertThat(yamls).isNotEmpty();
      for (Path file : yamls) {
        for (HasMetadata item : client.load(Files.newInputStream(file)).items()) {
          HasMetadata applied = client.resource(item).fieldManager("test").serverSideApply();
          assertThat(applied.getMetadata().getUid()).as("%s applied", file).isNotNull();
          client.resource(applied).delete();
        }
      }
    }
  }

  static Stream<Arguments> malformed() {
    String digest = "sha256:" + "a".repeat(64);
    String layer = "{url: 'https://files.example/l.tar.gz', digest: '" + digest + "'}";
    return Stream.of(
        Arguments.of(
            "digest not sha256 hex",
            layerSet(
                "bad-digest", "layers: [{url: 'https://f.example/l.tar', digest: 'sha256:XYZ'}]"),
            "spec.layers[0].digest"),
        Arguments.of(
            "digest of another algorithm",
            layerSet(
                "md5-digest",
                "layers: [{url: 'https://f.example/l.tar', digest: 'md5:" + "a".repeat(32) + "'}]"),
            "spec.layers[0].digest"),
        Arguments.of(
            "url scheme not http, https or file",
            layerSet(
                "ftp-url", "layers: [{url: 'ftp://f.example/l.tar', digest: '" + digest + "'}]"),
            "spec.layers[0].url"),
        Arguments.of(
            "both layers and image",
            layerSet("both", "layers: [" + layer + "]\n  image: registry.example/team/app:1"),
            "exactly one of spec.layers and spec.image"),
        Arguments.of(
            "neither layers nor image",
            layerSet("neither", "deletionPolicy: Orphan"),
            "exactly one of spec.layers and spec.image"),
        Arguments.of("empty layers", layerSet("empty-layers", "layers: []"), "spec.layers"),
        Arguments.of(
            "more than 128 layers",
            layerSet(
                "too-many",
                "layers: [" + String.join(",", java.util.Collections.nCopies(129, layer)) + "]"),
            "spec.layers"),
        Arguments.of(
            "deletionPolicy not in the enum",
            layerSet("bad-policy", "layers: [" + layer + "]\n  deletionPolicy: Never"),
            "spec.deletionPolicy"),
        Arguments.of(
            "LayerSet name longer than 63",
            layerSet("l".repeat(64), "layers: [" + layer + "]"),
            "metadata.name"),
        Arguments.of(
            "media type not a layer type",
            layerSet(
                "bad-media",
                "layers: [{url: 'https://f.example/l', digest: '"
                    + digest
                    + "', mediaType: 'text/html'}]"),
            "spec.layers[0].mediaType"),
        Arguments.of("relative target", mount("relative", "target: mnt/strata/x"), "spec.target"),
        Arguments.of(
            "target with ..", mount("dotdot", "target: /mnt/strata/../etc"), "spec.target"),
        Arguments.of("target with .", mount("dot", "target: /mnt/strata/./x"), "spec.target"),
        Arguments.of("target with //", mount("slashes", "target: /mnt/strata//x"), "spec.target"),
        Arguments.of(
            "target with trailing /", mount("trailing", "target: /mnt/strata/x/"), "spec.target"),
        Arguments.of(
            "target with a comma", mount("comma", "target: '/mnt/strata/a,b'"), "spec.target"),
        Arguments.of(
            "target with a colon", mount("colon", "target: '/mnt/strata/a:b'"), "spec.target"),
        Arguments.of(
            "target with a space", mount("space", "target: '/mnt/strata/a b'"), "spec.target"),
        Arguments.of(
            "target over 1024", mount("long", "target: /" + "x".repeat(1024)), "spec.target"),
        Arguments.of(
            "Memory upper without sizeLimit",
            mount("memory", "upper: {medium: Memory}"),
            "spec.upper.sizeLimit is required"),
        Arguments.of(
            "sizeLimit in milli-bytes",
            mount("milli", "upper: {medium: Memory, sizeLimit: 100m}"),
            "spec.upper.sizeLimit must be a whole number of bytes"),
        Arguments.of(
            "sizeLimit with a fraction",
            mount("fraction", "upper: {medium: Memory, sizeLimit: '1.5'}"),
            "spec.upper.sizeLimit must be a whole number of bytes"),
        Arguments.of(
            "sizeLimit with an exponent",
            mount("exponent", "upper: {medium: Memory, sizeLimit: 1e3}"),
            "spec.upper.sizeLimit must be a whole number of bytes"),
        Arguments.of(
            "sizeLimit of 0",
            mount("zero", "upper: {medium: Memory, sizeLimit: 0}"),
            "spec.upper.sizeLimit must be a whole number of bytes"),
        Arguments.of(
            "sizeLimit over 1Ti",
            mount("huge", "upper: {medium: Memory, sizeLimit: 1025Gi}"),
            "spec.upper.sizeLimit must be a whole number of bytes"),
        Arguments.of(
            "sizeLimit over 1Ti as a number",
            mount("huge-number", "upper: {medium: Memory, sizeLimit: 1099511627777}"),
            "spec.upper.sizeLimit must be a whole number of bytes"),
        Arguments.of(
            "medium not in the enum", mount("tape", "upper: {medium: Tape}"), "spec.upper.medium"),
        Arguments.of(
            "reclaimPolicy not in the enum",
            mount("keep", "upper: {reclaimPolicy: Keep}"),
            "spec.upper.reclaimPolicy"),
        Arguments.of(
            "read-only with an upper",
            mount("ro-upper", "readOnly: true\n  upper: {medium: Disk}"),
            "a readOnly mount has no upper"),
        Arguments.of(
            "missing layerSetRef",
            "apiVersion: strata.io/v1alpha1\nkind: OverlayMount\nmetadata: {name: no-ref}\nspec: {}\n",
            "spec.layerSetRef"),
        Arguments.of(
            "OverlayMount name longer than 63",
            mount("o".repeat(64), "readOnly: true"),
            "metadata.name"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void serverRejectsMalformedObjects(String what, String yaml, String namedInMessage) {
    GenericKubernetesResource object =
        Serialization.unmarshal(yaml, GenericKubernetesResource.class);
    assertThatThrownBy(() -> client.resource(object).create())
        .as(what)
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(422))
        .hasMessageContaining(namedInMessage);
  }

  /** Every size the schema lets through is one the agent honours, up to the bound. */
  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"64Mi", "1Ti", "1", "500M", "1048576"})
  void wholeByteSizesUpTo1TiAreAccepted(String size) {
    GenericKubernetesResource object =
        Serialization.unmarshal(
            mount("size-" + size.toLowerCase(), "upper: {medium: Memory, sizeLimit: " + size + "}"),
            GenericKubernetesResource.class);
    HasMetadata created = client.resource(object).create();
    try {
      assertThat(ByteQuantity.parse("sizeLimit", size)).isPositive();
    } finally {
      client.resource(created).delete();
    }
  }

  @Test
  void statusIsOnlyWrittenThroughTheStatusSubresource() {
    LayerSet layerSet = new LayerSet();
    layerSet.getMetadata().setName("status-subresource");
    layerSet.setSpec(new LayerSet.Spec());
    layerSet.getSpec().layers =
        List.of(new LayerSet.Layer("https://f.example/l.tar", "sha256:" + "b".repeat(64)));
    LayerSet.Status status = new LayerSet.Status();
    status.desiredNodes = 5;
    layerSet.setStatus(status);

    LayerSet created = client.resource(layerSet).create();
    assertThat(created.getStatus()).as("status dropped on create").isNull();

    created.setStatus(status);
    LayerSet updated = client.resource(created).update();
    assertThat(updated.getStatus()).as("status ignored on update of the main resource").isNull();

    updated.setStatus(status);
    LayerSet withStatus = client.resource(updated).updateStatus();
    assertThat(withStatus.getStatus().desiredNodes).isEqualTo(5);
    assertThat(client.resource(withStatus).get().getStatus().desiredNodes).isEqualTo(5);
    client.resource(withStatus).delete();
  }

  private static String layerSet(String name, String spec) {
    return "apiVersion: strata.io/v1alpha1\nkind: LayerSet\nmetadata: {name: "
        + name
        + "}\nspec:\n  "
        + spec
        + "\n";
  }

  private static String mount(String name, String spec) {
    return "apiVersion: strata.io/v1alpha1\nkind: OverlayMount\nmetadata: {name: "
        + name
        + "}\nspec:\n  layerSetRef: {name: example}\n  "
        + spec
        + "\n";
  }
}
