package io.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.overlay.MountTable;
import io.strata.testing.RootMounts;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code strata mount} and {@code strata unmount}, as root, on a scratch mount base. */
class MountCommandTest {
  @TempDir Path tmp;
  private RootMounts node;
  private final CliRun cli = new CliRun();

  @BeforeEach
  void prepare() throws Exception {
    node = RootMounts.prepare(tmp);
    Files.writeString(node.lower.resolve("hello"), "hi\n");
  }

  @AfterEach
  void cleanUp() throws Exception {
    if (node != null) {
      node.cleanUp();
    }
  }

  private int run(String... args) {
    return cli.run(args);
  }

  private String[] nodeArgs(String command, String... rest) {
    String[] head = {
      command, "--state-dir", node.stateDir.toString(), "--mount-base", node.mountBase.toString()
    };
    String[] all = new String[head.length + rest.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(rest, 0, all, head.length, rest.length);
    return all;
  }

  @Test
  void mountPrintsTheMountItMadeAndUnmountRemovesIt() throws Exception {
    assertThat(run(nodeArgs("mount", "--lower", node.lower.toString(), "--json", "train-env")))
        .as(cli.err())
        .isZero();
    JsonNode mount = Serialization.jsonMapper().readTree(cli.out());
    Path target = node.mountBase.resolve("train-env");
    assertThat(mount.get("target").asText()).isEqualTo(target.toString());
    assertThat(mount.get("source").asText()).isEqualTo("strata:train-env");
    assertThat(mount.get("options").asText()).startsWith("lowerdir=" + node.lower + ",upperdir=");
    assertThat(Files.readString(target.resolve("hello"))).isEqualTo("hi\n");
    assertThat(cli.err()).as("the base is shared: no warning").isEmpty();

    assertThat(run(nodeArgs("mount", "--lower", node.lower.toString(), "train-env"))).isZero();
    assertThat(cli.out()).startsWith("already mounted: train-env");

    assertThat(run(nodeArgs("unmount", "--json", "train-env"))).isZero();
    assertThat(Serialization.jsonMapper().readTree(cli.out()).get("unmounted").get(0).asText())
        .isEqualTo(target.toString());
    assertThat(MountTable.read().at(target)).isEmpty();
  }

  @Test
  void aMemoryMountTakesAQuantity() throws Exception {
    assertThat(
            run(
                nodeArgs(
                    "mount",
                    "--lower",
                    node.lower.toString(),
                    "--memory",
                    "8Mi",
                    "--json",
                    "scratch")))
        .as(cli.err())
        .isZero();
    assertThat(
            MountTable.read()
                .at(node.mountBase.resolve(".uppers/scratch"))
                .orElseThrow()
                .superOptions())
        .contains("size=8192k");
  }

  @Test
  void refusalsAreOneLineNamingTheReason() {
    assertThat(run(nodeArgs("mount", "--lower", node.lower.toString(), "--target", "/etc", "x")))
        .isEqualTo(1);
    assertThat(cli.err().lines())
        .singleElement()
        .asString()
        .startsWith(
            "strata mount: UnsafeTarget: target /etc is not strictly beneath the mount base");
    assertThat(run(nodeArgs("mount", "--lower", node.lower.toString(), "--memory", "lots", "x")))
        .isEqualTo(2);
    assertThat(cli.err()).contains("--memory is \"lots\": it must be a whole number of bytes");
    assertThat(run(nodeArgs("mount", "--lower", node.lower.toString(), "--memory", "100m", "x")))
        .as("a milli-byte quantity names no whole number of bytes")
        .isEqualTo(2);
  }
}
