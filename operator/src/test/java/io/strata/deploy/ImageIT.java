package io.strata.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container image Jib built in the package phase (profile {@code image}): unpacked by {@code
 * umoci} the way a runtime would, its entrypoint runs {@code strata version} under {@code chroot}
 * (in a PID namespace with its own /proc), on the trimmed Java runtime it ships and with the JVM
 * flags a DaemonSet wants; and so does the {@code strata} command on its PATH, from the
 * ahead-of-time cache trained in the image.
 */
class ImageIT {
  @TempDir Path tmp;

  @Test
  void theImageRunsStrataVersion() throws Exception {
    Tools.requireRoot("umoci unpack and chroot need root");
    Path image = Path.of(System.getProperty("strata.imageTar", "operator/target/strata-image.tar"));
    Tools.require(Files.isRegularFile(image), "the image " + image + " (./mvnw package -Pimage)");
    Tools.requireCommand("skopeo");
    Tools.requireCommand("umoci");

    Path layout = tmp.resolve("layout");
    Tools.run(
        tmp,
        "skopeo",
        "--insecure-policy",
        "copy",
        "--quiet",
        "docker-archive:" + image,
        "oci:" + layout + ":strata");
    Path bundle = tmp.resolve("bundle");
    Tools.run(tmp, "umoci", "unpack", "--image", layout + ":strata", bundle.toString());

    JsonNode process =
        new ObjectMapper().readTree(bundle.resolve("config.json").toFile()).path("process");
    List<String> entrypoint = new ArrayList<>();
    process.path("args").forEach(a -> entrypoint.add(a.asText()));
    assertThat(entrypoint)
        .contains("io.strata.cli.Main", "-XX:MaxRAMPercentage=75", "-Xshare:auto")
        .contains("-XX:+ExitOnOutOfMemoryError");

    Path rootfs = bundle.resolve("rootfs");
    assertThat(rootfs.resolve("opt/java/bin/java")).isExecutable();
    assertThat(rootfs.resolve("opt/java/bin/javac")).as("a runtime, not a JDK").doesNotExist();
    assertThat(rootfs.resolve("opt/java/lib/server/classes.jsa")).as("class-data sharing").exists();
    assertThat(rootfs.resolve("usr/lib/x86_64-linux-gnu/libnettle.so.8"))
        .as("Nettle, which hashes layers (io.strata.sys.Sha256)")
        .exists();

    // As a runtime would: its own PID namespace with /proc mounted (the dynamic loader finds the
    // runtime's libraries through /proc/self/exe), a clean environment from the image config.
    List<String> command =
        new ArrayList<>(
            List.of(
                "unshare",
                "--fork",
                "--pid",
                "--mount-proc=" + rootfs.resolve("proc"),
                "chroot",
                rootfs.toString(),
                "env",
                "-i"));
    process.path("env").forEach(e -> command.add(e.asText()));
    List<String> fromTheEntrypoint = new ArrayList<>(command);
    fromTheEntrypoint.addAll(entrypoint);
    fromTheEntrypoint.add("version");
    String output = Tools.run(tmp, fromTheEntrypoint.toArray(String[]::new));
    assertThat(output).startsWith("strata ").contains("0.1.0");

    // The command line on the image's PATH, as `kubectl exec ... -- strata` runs it in a pod
    // whose JVM options the chart sets: the same answer, and nothing from the JVM beside it.
    assertThat(rootfs.resolve("usr/local/bin/strata")).isExecutable();
    List<String> fromThePath = new ArrayList<>(command);
    fromThePath.addAll(List.of("JDK_JAVA_OPTIONS=-Xmx64m -XX:TieredStopAtLevel=1", "strata"));
    fromThePath.add("version");
    assertThat(Tools.run(tmp, fromThePath.toArray(String[]::new)))
        .as("stdout and stderr of strata version")
        .isEqualTo(output);
    // ... started from the ahead-of-time cache the build trained in this image.
    assertThat(rootfs.resolve("opt/strata/strata.aot")).isNotEmptyFile();
    List<String> logged = new ArrayList<>(command);
    logged.addAll(List.of("JDK_JAVA_OPTIONS=-Xmx64m -Xlog:class+load=info", "strata", "version"));
    assertThat(Tools.run(tmp, logged.toArray(String[]::new)))
        .contains("io.strata.cli.Main source: shared objects file");
  }
}
