package io.strata.layerstore;

import static io.strata.testing.Tools.run;
import static io.strata.testing.Tools.sh;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.layerstore.LayerStore.LayerSource;
import io.strata.layerstore.LayerStore.Materialized;
import io.strata.layout.StoreLayout;
import io.strata.oci.Digest;
import io.strata.sys.Syscalls;
import io.strata.tarapply.Limits;
import io.strata.testing.TarBuilder;
import io.strata.testing.Tools;
import io.strata.testing.TreeSnapshot;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real OCI images built by umoci from a debootstrap root filesystem, one tag per kind of change a
 * build step makes, plus a hand-written layer with opaque directories; the root Strata materializes
 * for every tag equals what {@code umoci unpack} makes of the same image.
 */
class UmociParityTest {
  @TempDir static Path work;
  private static Path image;

  /** The build steps: each runs in the bundle's rootfs, then becomes a layer of its own tag. */
  private static final String REWRITE_CHMOD_DELETE_SPECIALS =
      """
      echo changed > etc/hostname
      chmod 0600 etc/debian_version
      rm etc/issue.net
      rm -rf usr/share/doc
      rm etc/motd && mkdir etc/motd && echo inside > etc/motd/inside
      rm -rf var/mail && ln -s /tmp var/mail
      ln usr/bin/ls usr/bin/ls-hardlink
      mkfifo run/strata-fifo
      mknod dev/strata-null c 1 3
      mknod dev/strata-loop b 7 200
      cp usr/bin/true usr/bin/setuid-true && chmod 4755 usr/bin/setuid-true
      cp usr/bin/true usr/bin/setgid-true && chown 0:8 usr/bin/setgid-true && chmod 2711 usr/bin/setgid-true
      setfattr -n user.strata -v hello etc/hostname
      setcap cap_net_raw+ep usr/bin/setuid-true
      long=opt/$(printf 'n%.0s' $(seq 200))
      mkdir -p "$long" && echo long > "$long/$(printf 'm%.0s' $(seq 200)).txt"
      echo café > 'opt/naïve-ünïcödé ☃.txt'
      truncate -s 64M opt/sparse && echo tail >> opt/sparse
      chown 1234:5678 opt/sparse
      """;

  private static final String REVERSE_AND_RELINK =
      """
      rm -rf etc/motd && echo back > etc/motd
      rm usr/bin/ls-hardlink
      ln etc/hostname etc/hostname-link
      chmod 0644 etc/debian_version
      rm var/mail && mkdir var/mail
      rm -rf usr/share/zoneinfo 2>/dev/null || true
      touch -d @1700000000 etc/hostname
      """;

  @BeforeAll
  static void buildImages() throws Exception {
    Tools.requireRoot("needs root");
    Tools.requireCommand("umoci");
    Tools.requireCommand("setcap");
    Tools.requireCommand("setfattr");
    Path rootfs = Tools.testRootfsTar();
    image = work.resolve("image");
    Path bundle = work.resolve("bundle");
    run(work, "umoci", "init", "--layout", image.toString());
    run(work, "umoci", "new", "--image", image + ":empty");
    run(work, "umoci", "unpack", "--image", image + ":empty", bundle.toString());
    run(
        work,
        "tar",
        "--numeric-owner",
        "--xattrs",
        "--xattrs-include=*",
        "-xpf",
        rootfs.toString(),
        "-C",
        bundle.resolve("rootfs").toString());
    // --refresh-bundle: each repack adds one layer on top of the tag before it; without it every
    // tag would be one layer holding the whole tree, and no change would reach a layer as a diff.
    repack(bundle, "t1");
    sh(bundle.resolve("rootfs"), REWRITE_CHMOD_DELETE_SPECIALS);
    repack(bundle, "t2");
    sh(bundle.resolve("rootfs"), REVERSE_AND_RELINK);
    repack(bundle, "t3");

    // A hand-written layer: opaque directories, with markers before and after the layer's own
    // entries, and a whiteout of a whole tree.
    Path opaque =
        new TarBuilder()
            .dir("etc")
            .file("etc/only-this-and-later", "kept")
            .opaque("etc")
            .file("etc/hostname", "after the marker")
            .opaque("usr/lib")
            .dir("usr/lib")
            .whiteout("usr", "share")
            .write(work.resolve("opaque.tar"));
    run(work, "umoci", "config", "--image", image + ":t3", "--tag", "t3-base");
    run(
        work,
        "umoci",
        "raw",
        "add-layer",
        "--image",
        image + ":t3-base",
        "--tag",
        "t4",
        opaque.toString());
  }

  private static void repack(Path bundle, String tag) throws Exception {
    run(
        work,
        "umoci",
        "repack",
        "--refresh-bundle",
        "--image",
        image + ":" + tag,
        bundle.toString());
  }

  @ParameterizedTest(name = "tag {0}")
  @ValueSource(strings = {"t1", "t2", "t3", "t4"})
  void theMaterializedRootEqualsUmociUnpack(String tag) throws Exception {
    Path reference = work.resolve("unpacked-" + tag);
    run(work, "umoci", "unpack", "--image", image + ":" + tag, reference.toString());

    LayerStore store =
        new LayerStore(new StoreLayout(work.resolve("state")), Syscalls.get(), Limits.DEFAULT);
    List<LayerSource> layers = layersOf(tag);
    assertThat(layers).as("layers of %s", tag).hasSize(Integer.parseInt(tag.substring(1)));
    Materialized made = store.materialize(layers);

    TreeSnapshot expected = TreeSnapshot.of(reference.resolve("rootfs"));
    TreeSnapshot actual = TreeSnapshot.of(made.root());
    assertThat(actual.entries()).containsExactlyEntriesOf(expected.entries());
    assertThat(actual.hardlinkGroups()).isEqualTo(expected.hardlinkGroups());
    assertThat(made.files()).isPositive();
    assertTheImageReallyHasItsChanges(tag, expected);
  }

  /** The comparison means something only if the reference shows what each step did. */
  private static void assertTheImageReallyHasItsChanges(String tag, TreeSnapshot tree) {
    var e = tree.entries();
    assertThat(e).hasSizeGreaterThan(tag.equals("t4") ? 500 : 3000);
    switch (tag) {
      case "t1" -> assertThat(e).containsKey("usr/share/doc").containsKey("etc/issue.net");
      case "t2" -> {
        assertThat(e).doesNotContainKey("usr/share/doc").doesNotContainKey("etc/issue.net");
        assertThat(e.get("usr/bin/setuid-true"))
            .contains("mode=4755", "xattr:security.capability=");
        assertThat(e.get("usr/bin/setgid-true")).contains("mode=2711", "owner=0:8");
        assertThat(e.get("dev/strata-null")).contains("dev=1,3");
        assertThat(e.get("dev/strata-loop")).contains("dev=7,200");
        assertThat(e.get("run/strata-fifo")).contains("type=10000");
        assertThat(e.get("etc/hostname")).contains("xattr:user.strata=68656c6c6f");
        assertThat(e.get("etc/debian_version")).contains("mode=0600");
        assertThat(e.get("etc/motd/inside")).isNotNull();
        assertThat(e.get("var/mail")).contains("target=/tmp");
        assertThat(e.get("opt/sparse")).contains("size=67108869", "owner=1234:5678");
        assertThat(e).containsKey("opt/naïve-ünïcödé ☃.txt");
        assertThat(tree.hardlinkGroups()).contains(List.of("usr/bin/ls", "usr/bin/ls-hardlink"));
      }
      case "t3" -> {
        assertThat(e.get("etc/motd")).contains("size=5");
        assertThat(e.get("var/mail")).contains("type=40000");
        assertThat(tree.hardlinkGroups()).contains(List.of("etc/hostname", "etc/hostname-link"));
        assertThat(e.get("etc/hostname")).contains("mtime=1700000000.0");
      }
      case "t4" -> {
        assertThat(e.keySet().stream().filter(k -> k.startsWith("etc/")))
            .containsExactlyInAnyOrder("etc/only-this-and-later", "etc/hostname");
        assertThat(e).doesNotContainKey("usr/share");
        assertThat(e.keySet().stream().filter(k -> k.startsWith("usr/lib/"))).isEmpty();
      }
      default -> throw new IllegalArgumentException(tag);
    }
  }

  /**
   * The layers of {@code tag}, from the image's index and manifest, with digests and media types.
   */
  private static List<LayerSource> layersOf(String tag) throws Exception {
    JsonNode index = Serialization.jsonMapper().readTree(image.resolve("index.json").toFile());
    String manifestDigest = null;
    for (JsonNode m : index.get("manifests")) {
      if (tag.equals(m.path("annotations").path("org.opencontainers.image.ref.name").asText())) {
        manifestDigest = m.get("digest").asText();
      }
    }
    JsonNode manifest = Serialization.jsonMapper().readTree(blob(manifestDigest).toFile());
    List<LayerSource> layers = new ArrayList<>();
    for (JsonNode layer : manifest.get("layers")) {
      String digest = layer.get("digest").asText();
      layers.add(
          new LayerSource(blob(digest), Digest.parse(digest), layer.get("mediaType").asText()));
    }
    return layers;
  }

  private static Path blob(String digest) {
    return image.resolve("blobs/sha256").resolve(digest.substring("sha256:".length()));
  }
}
