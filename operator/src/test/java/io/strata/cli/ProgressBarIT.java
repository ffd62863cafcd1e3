package io.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.testing.TarBuilder;
import io.strata.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code strata materialize} as a person and as a script see it: a progress line on stderr when it
 * is a terminal (a real pseudo-terminal, from util-linux's {@code script}), and nothing extra when
 * it is not, nor with {@code --json}.
 */
class ProgressBarIT {
  @TempDir Path tmp;

  @Test
  void aTerminalGetsAProgressLinePerLayerAndAScriptOnlyTheResult() throws Exception {
    Tools.requireRoot("materializing sets owners, which needs root");
    Tools.requireCommand("script");
    TarBuilder base = new TarBuilder();
    for (int i = 0; i < 200; i++) {
      base.file("data/f" + i, "file " + i + "\n");
    }
    Path first = base.write(tmp.resolve("base.tar"));
    Path second = new TarBuilder().file("top", "top\n").write(tmp.resolve("top.tar"));

    String atTerminal =
        Tools.run(
            tmp,
            "script",
            "-qec",
            shell(strata("materialize", "--state-dir", tmp.resolve("a").toString(), first, second)),
            "/dev/null");
    assertThat(atTerminal)
        .contains("\rlayer 1/2 [")
        .contains("\rlayer 2/2 [########################]")
        .contains("1 entries")
        .contains("materialized sha256:");

    Path err = tmp.resolve("stderr");
    String piped =
        Tools.sh(
            tmp,
            shell(strata("materialize", "--state-dir", tmp.resolve("b").toString(), first, second))
                + " 2>"
                + err);
    assertThat(piped.lines()).singleElement().asString().startsWith("materialized sha256:");
    assertThat(Files.readString(err)).as("stderr of a script").isEmpty();

    String json =
        Tools.run(
            tmp,
            "script",
            "-qec",
            shell(
                strata("materialize", "--json", "--state-dir", tmp.resolve("c").toString(), first)),
            "/dev/null");
    assertThat(json).doesNotContain("layer 1/1").contains("\"chainId\"");
  }

  private static List<String> strata(String command, Object... args) {
    List<String> line = new ArrayList<>();
    line.add(ProcessHandle.current().info().command().orElse("java"));
    line.add("--enable-native-access=ALL-UNNAMED");
    line.add("--sun-misc-unsafe-memory-access=allow");
    line.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.strata.cli.Main"));
    line.add(command);
    for (Object arg : args) {
      line.add(arg.toString());
    }
    return line;
  }

  private static String shell(List<String> words) {
    return words.stream()
        .map(w -> "'" + w.replace("'", "'\\''") + "'")
        .collect(Collectors.joining(" "));
  }
}
