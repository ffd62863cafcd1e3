package io.strata.csi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.csi.VolumeRefusedException.Code;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VolumeAttributesTest {
  private static final VolumeAttributes.Sizes SIZES =
      new VolumeAttributes.Sizes(256L << 20, 1L << 30);

  private static VolumeAttributes.Sizes bigger() {
    return new VolumeAttributes.Sizes(256L << 20, 4L << 30);
  }

  /** What kubelet sends for a pod's inline volume, plus {@code extra}. */
  private static Map<String, String> fromKubelet(String... extra) {
    Map<String, String> context = new HashMap<>();
    context.put("csi.storage.k8s.io/pod.name", "web-0");
    context.put("csi.storage.k8s.io/pod.namespace", "team-a");
    context.put("csi.storage.k8s.io/pod.uid", "0b6c1f9e-5a1e-4c43-9b1e-2f1d8e0a1b2c");
    context.put("csi.storage.k8s.io/serviceAccount.name", "default");
    context.put("csi.storage.k8s.io/ephemeral", "true");
    for (int i = 0; i < extra.length; i += 2) {
      context.put(extra[i], extra[i + 1]);
    }
    return context;
  }

  @Test
  void aDiskVolumeNeedsOnlyItsLayerSetAndGetsTheNodesDefaultSize() throws Exception {
    VolumeAttributes attributes =
        VolumeAttributes.parse(fromKubelet("layerSet", "python-3-12"), SIZES);

    assertThat(attributes)
        .isEqualTo(
            new VolumeAttributes(
                "python-3-12", VolumeAttributes.Medium.Disk, 256L << 20, "team-a", "web-0"));
    assertThat(
            VolumeAttributes.parse(fromKubelet("layerSet", "tools", "sizeLimit", "2Gi"), bigger())
                .sizeLimit())
        .isEqualTo(2L << 30);
  }

  @Test
  void aMemoryVolumeTakesItsSize() throws Exception {
    VolumeAttributes attributes =
        VolumeAttributes.parse(
            fromKubelet("layerSet", "tools", "medium", "Memory", "sizeLimit", "64Mi"), SIZES);

    assertThat(attributes.medium()).isEqualTo(VolumeAttributes.Medium.Memory);
    assertThat(attributes.sizeLimit()).isEqualTo(64L << 20);
  }

  @Test
  void eachBadAttributeIsRefusedByName() {
    record Case(Map<String, String> context, Code code, String says) {}
    var cases =
        new Case[] {
          new Case(
              fromKubelet("layerSet", "tools", "readOnly", "true", "zzz", "1"),
              Code.INVALID_ARGUMENT,
              "unknown volume attribute(s) [readOnly, zzz]"),
          new Case(fromKubelet(), Code.INVALID_ARGUMENT, "layerSet is missing"),
          new Case(
              fromKubelet("layerSet", "../etc"),
              Code.INVALID_ARGUMENT,
              "layerSet \"../etc\" is not a LayerSet name"),
          new Case(
              fromKubelet("layerSet", "tools", "medium", "disk"),
              Code.INVALID_ARGUMENT,
              "medium is \"disk\": it must be Disk or Memory"),
          new Case(
              fromKubelet("layerSet", "tools", "medium", "Memory"),
              Code.INVALID_ARGUMENT,
              "sizeLimit is missing: a Memory volume needs one"),
          new Case(
              fromKubelet("layerSet", "tools", "medium", "Memory", "sizeLimit", "1.5Gi"),
              Code.INVALID_ARGUMENT,
              "volume attribute sizeLimit is \"1.5Gi\""),
          new Case(
              fromKubelet("layerSet", "tools", "medium", "Memory", "sizeLimit", "2Gi"),
              Code.RESOURCE_EXHAUSTED,
              "sizeLimit 2Gi is over this node's maximum of 1073741824 bytes"),
          new Case(
              fromKubelet("layerSet", "tools", "medium", "Memory", "sizeLimit", "100Ti"),
              Code.INVALID_ARGUMENT,
              "at most 1Ti"),
          new Case(
              fromKubelet("layerSet", "tools", "sizeLimit", "2Gi"),
              Code.RESOURCE_EXHAUSTED,
              "sizeLimit 2Gi is over this node's maximum"),
          new Case(
              Map.of("layerSet", "tools"),
              Code.INVALID_ARGUMENT,
              "csi.storage.k8s.io/pod.namespace is missing: the CSIDriver csi.strata.io must have"
                  + " podInfoOnMount: true"),
        };
    for (Case c : cases) {
      assertThatThrownBy(() -> VolumeAttributes.parse(c.context(), SIZES))
          .as("%s", c.context())
          .isInstanceOfSatisfying(
              VolumeRefusedException.class, e -> assertThat(e.code()).isEqualTo(c.code()))
          .hasMessageContaining(c.says());
    }
  }
}
