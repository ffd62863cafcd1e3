package io.strata.testing;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.crd.LayerSet;
import io.strata.crd.OverlayMount;
import io.strata.oci.Digest;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/** Strata resources as the tests make them: named, and labelled so a suite can delete its own. */
public final class TestResources {
  private TestResources() {}

  /**
   * Deletes a suite's resources, the OverlayMounts before the LayerSets they name, as a user
   * uninstalling them would.
   */
  /**
   * The directories the tests' agents allow file URLs from: the examples' layers, the test root
   * filesystem's cache, and {@code more} (a test's own temporary directory).
   */
  public static java.util.List<java.nio.file.Path> fileUrlDirs(java.nio.file.Path... more) {
    java.util.List<java.nio.file.Path> dirs = new java.util.ArrayList<>();
    dirs.add(ProjectFiles.examples().resolve("layers"));
    dirs.add(Tools.testRootfsTar().getParent());
    dirs.addAll(java.util.List.of(more));
    return dirs;
  }

  public static void deleteSuite(KubernetesClient client, Map<String, String> labels) {
    client.resources(OverlayMount.class).withLabels(labels).delete();
    client.resources(LayerSet.class).withLabels(labels).delete();
  }

  /**
   * What {@code kubectl edit} does for a person: reads the object, changes it and writes it back
   * with the version it read, and when something else wrote in between (the controller's finalizer,
   * the agent's node labels) and the server refuses with 409, reads it again and tries again.
   * Fabric8's {@code edit} makes one attempt.
   */
  public static <T extends HasMetadata> T edit(Resource<T> resource, UnaryOperator<T> change) {
    for (int attempt = 1; ; attempt++) {
      try {
        return resource.edit(change);
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == 10) {
          throw e;
        }
      }
    }
  }

  /**
   * OverlayMount {@code name} of LayerSet {@code layerSet}, labelled {@code labels}; no node
   * selector of its own (every node the LayerSet selects).
   */
  public static OverlayMount overlayMount(
      String name, Map<String, String> labels, String layerSet) {
    OverlayMount mount = new OverlayMount();
    mount.getMetadata().setName(name);
    mount.getMetadata().setLabels(labels);
    mount.setSpec(new OverlayMount.Spec());
    mount.getSpec().layerSetRef = new OverlayMount.LayerSetReference(layerSet);
    return mount;
  }

  /**
   * LayerSet {@code name} of one layer, at {@code url} with {@code digest}, labelled {@code
   * labels}; no node selector (every node).
   */
  public static LayerSet layerSet(
      String name, Map<String, String> labels, String url, Digest digest) {
    LayerSet layerSet = new LayerSet();
    layerSet.getMetadata().setName(name);
    layerSet.getMetadata().setLabels(labels);
    layerSet.setSpec(new LayerSet.Spec());
    layerSet.getSpec().layers = List.of(new LayerSet.Layer(url, digest.toString()));
    return layerSet;
  }

  /**
   * {@code examples/layerset.yaml} as LayerSet {@code name}, labelled {@code suite} and selecting
   * the nodes labelled {@code suite}; each layer's URL is {@code url} of the file name the example
   * gives it (its layers are in {@code examples/layers/}).
   */
  public static LayerSet exampleLayerSet(
      String name, Map<String, String> suite, UnaryOperator<String> url) throws IOException {
    LayerSet example =
        Serialization.unmarshal(
            Files.readString(ProjectFiles.examples().resolve("layerset.yaml")), LayerSet.class);
    LayerSet layerSet = new LayerSet();
    layerSet.getMetadata().setName(name);
    layerSet.getMetadata().setLabels(suite);
    layerSet.setSpec(example.getSpec());
    layerSet.getSpec().nodeSelector = new LabelSelectorBuilder().withMatchLabels(suite).build();
    for (LayerSet.Layer layer : layerSet.getSpec().layers) {
      layer.url = url.apply(layer.url.substring(layer.url.lastIndexOf('/') + 1));
    }
    return layerSet;
  }
}
