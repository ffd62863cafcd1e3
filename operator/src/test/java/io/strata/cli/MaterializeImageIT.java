package io.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.testing.LocalRegistry;
import io.strata.testing.TestImages;
import io.strata.testing.Tools;
import io.strata.testing.TreeSnapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code strata materialize --image}: an image straight from a registry into a node's cache, no
 * cluster (node-side debugging, as {@code ctr image pull} is for containerd). Real images made by
 * umoci, pushed by skopeo to a real registry on loopback; the root equals what umoci unpacks.
 */
class MaterializeImageIT {
  private static final String REPO = "team/tools";

  @TempDir Path tmp;
  private final CliRun cli = new CliRun();

  @Test
  void anImageByTagAndFromAnIndexMaterializesWhatUmociUnpacks() throws Exception {
    Tools.requireRoot("materializing sets owners, which needs root");
    TestImages images = TestImages.build(tmp.resolve("images"));
    try (LocalRegistry registry = LocalRegistry.plain(tmp.resolve("registry"))) {
      images.push("v1", registry.host(), REPO, "1.0", null);
      images.push("multi", registry.host(), REPO, "multi", null);
      Path state = tmp.resolve("state");

      String byTag = registry.host() + "/" + REPO + ":1.0";
      assertThat(run("materialize", "--state-dir", state.toString(), "--json", "--image", byTag))
          .as(cli.err())
          .isZero();
      JsonNode made = new ObjectMapper().readTree(cli.out());
      assertThat(made.get("image").asText())
          .isEqualTo(registry.host() + "/" + REPO + "@" + images.digest("v1"));
      assertSameTree(made.get("root").asText(), images.unpack("v1", tmp.resolve("unpacked-v1")));
      assertThat(made.get("diffIds")).hasSize(images.diffIds("v1").size());

      // From the index, the manifest --platform names (the arm64 one is image v2).
      String index = registry.host() + "/" + REPO + ":multi";
      assertThat(
              run(
                  "materialize",
                  "--state-dir",
                  state.toString(),
                  "--json",
                  "--platform",
                  "linux/arm64",
                  "--image",
                  index))
          .as(cli.err())
          .isZero();
      assertSameTree(
          new ObjectMapper().readTree(cli.out()).get("root").asText(),
          images.unpack("v2", tmp.resolve("unpacked-v2")));

      // Asked again: the root is there, nothing is built twice.
      assertThat(run("materialize", "--state-dir", state.toString(), "--image", byTag)).isZero();
      assertThat(cli.out()).startsWith("already had ");
    }
  }

  /**
   * A registry with TLS and logins, as a node's registries often are: the CA bundle, a mirror entry
   * that says to speak HTTPS to it, and the login from a docker config.json; without the login, one
   * clear line says why not.
   */
  @Test
  void aRegistryWithTlsAndALoginNeedsTheCaBundleAndTheDockerConfig() throws Exception {
    Tools.requireRoot("materializing sets owners, which needs root");
    TestImages images = TestImages.build(tmp.resolve("images"));
    try (LocalRegistry registry = LocalRegistry.tlsWithBasicAuth(tmp.resolve("registry"))) {
      images.push(
          "v1", registry.host(), REPO, "1.0", LocalRegistry.USER + ":" + LocalRegistry.PASSWORD);
      String auth =
          java.util.Base64.getEncoder()
              .encodeToString(
                  (LocalRegistry.USER + ":" + LocalRegistry.PASSWORD)
                      .getBytes(java.nio.charset.StandardCharsets.UTF_8));
      Path config =
          Files.writeString(
              tmp.resolve("config.json"),
              "{\"auths\":{\"" + registry.host() + "\":{\"auth\":\"" + auth + "\"}}}");
      String[] common = {
        "materialize",
        "--state-dir",
        tmp.resolve("state").toString(),
        "--json",
        "--ca-bundle",
        registry.certificate().toString(),
        "--registry-mirror",
        registry.host() + "=https://" + registry.host(),
        "--image",
        registry.host() + "/" + REPO + ":1.0"
      };

      assertThat(run(common)).as("no login").isNotZero();
      assertThat(cli.err()).contains("Unauthorized");

      String[] withLogin = java.util.Arrays.copyOf(common, common.length + 2);
      withLogin[common.length] = "--docker-config";
      withLogin[common.length + 1] = config.toString();
      assertThat(run(withLogin)).as(cli.err()).isZero();
      assertSameTree(
          new ObjectMapper().readTree(cli.out()).get("root").asText(),
          images.unpack("v1", tmp.resolve("unpacked")));
    }
  }

  @Test
  void layersAndAnImageTogetherOrNeitherAreRefusedWithAClearLine() throws Exception {
    Path layer = Files.writeString(tmp.resolve("l.tar"), "");
    String state = tmp.resolve("state").toString();
    assertThat(
            run("materialize", "--state-dir", state, "--image", "r.example/a:1", layer.toString()))
        .isEqualTo(2);
    assertThat(cli.err()).contains("give layer files or --image REF, exactly one of the two");
    assertThat(run("materialize", "--state-dir", state)).isEqualTo(2);
    assertThat(
            run(
                "materialize",
                "--state-dir",
                state,
                "--platform",
                "amd64",
                "--image",
                "r.example/a:1"))
        .isEqualTo(2);
    assertThat(cli.err()).contains("platform 'amd64' is not OS/ARCH");
  }

  private int run(String... args) {
    return cli.run(args);
  }

  private static void assertSameTree(String root, Path reference) throws Exception {
    TreeSnapshot expected = TreeSnapshot.of(reference);
    TreeSnapshot actual = TreeSnapshot.of(Path.of(root));
    assertThat(actual.entries()).containsExactlyEntriesOf(expected.entries());
    assertThat(actual.hardlinkGroups()).isEqualTo(expected.hardlinkGroups());
  }
}
