package io.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.testing.LocalRegistry;
import io.strata.testing.TestImages;
import io.strata.testing.Tools;
import io.strata.testing.TreeSnapshot;
import java.io.PrintWriter;
import java.io.StringWriter;
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
  private StringWriter out;
  private StringWriter err;

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
          .as(err.toString())
          .isZero();
      JsonNode made = new ObjectMapper().readTree(out.toString());
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
          .as(err.toString())
          .isZero();
      assertSameTree(
          new ObjectMapper().readTree(out.toString()).get("root").asText(),
          images.unpack("v2", tmp.resolve("unpacked-v2")));

      // Asked again: the root is there, nothing is built twice.
      assertThat(run("materialize", "--state-dir", state.toString(), "--image", byTag)).isZero();
      assertThat(out.toString()).startsWith("already had ");
    }
  }

  @Test
  void layersAndAnImageTogetherOrNeitherAreRefusedWithAClearLine() throws Exception {
    Path layer = Files.writeString(tmp.resolve("l.tar"), "");
    String state = tmp.resolve("state").toString();
    assertThat(
            run("materialize", "--state-dir", state, "--image", "r.example/a:1", layer.toString()))
        .isEqualTo(2);
    assertThat(err.toString()).contains("give layer files or --image REF, exactly one of the two");
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
    assertThat(err.toString()).contains("platform 'amd64' is not OS/ARCH");
  }

  private int run(String... args) {
    out = new StringWriter();
    err = new StringWriter();
    var cli = Main.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    return cli.execute(args);
  }

  private static void assertSameTree(String root, Path reference) throws Exception {
    TreeSnapshot expected = TreeSnapshot.of(reference);
    TreeSnapshot actual = TreeSnapshot.of(Path.of(root));
    assertThat(actual.entries()).containsExactlyEntriesOf(expected.entries());
    assertThat(actual.hardlinkGroups()).isEqualTo(expected.hardlinkGroups());
  }
}
