package io.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.testing.ProjectFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * docs/flags.md against the command line and the chart: every flag of {@code agent} and {@code
 * controller} reads an environment variable, has its row (with that variable), and the chart sets
 * it from a value that exists (or names where it comes from), passing the flag or the variable.
 */
class FlagsDocTest {
  private static final Pattern ENV = Pattern.compile("\\$\\{env:([A-Z_]+)");
  private static final Pattern VALUE = Pattern.compile("`([a-zA-Z]+(?:\\.[a-zA-Z]+)*)`");

  @Test
  void everyFlagHasAnEnvironmentVariableARowAndAChartValue() throws IOException {
    List<String> rows = Files.readAllLines(ProjectFiles.root().resolve("docs/flags.md"));
    Map<String, Object> values =
        new Yaml().load(Files.readString(ProjectFiles.root().resolve("charts/strata/values.yaml")));
    String templates = templates();
    List<String> checked = new ArrayList<>();
    CommandLine cli = Main.commandLine();
    for (String command : List.of("agent", "controller")) {
      CommandSpec spec = cli.getSubcommands().get(command).getCommandSpec();
      spec.interpolateVariables(false); // the defaults as written: ${env:NAME:-default}
      for (OptionSpec option : spec.options()) {
        if (option.usageHelp() || option.versionHelp()) {
          continue;
        }
        String flag = option.longestName();
        Matcher env = ENV.matcher(String.valueOf(option.defaultValue()));
        assertThat(env.find()).as("%s %s reads an environment variable", command, flag).isTrue();
        String variable = env.group(1);
        String prefix = "| `" + command + "` | `" + flag + "` | `" + variable + "` | ";
        String row =
            rows.stream()
                .filter(r -> r.startsWith(prefix))
                .findFirst()
                .orElseThrow(() -> new AssertionError("docs/flags.md has no row " + prefix));
        String chart = row.substring(prefix.length(), row.indexOf(" |", prefix.length()));
        Matcher value = VALUE.matcher(chart);
        if (value.find()) {
          assertThat(lookup(values, value.group(1)))
              .as("%s %s: chart value %s in values.yaml", command, flag, value.group(1))
              .isTrue();
        } else {
          assertThat(chart).as("%s %s: where the chart takes it from", command, flag).isNotBlank();
        }
        assertThat(templates.contains(flag) || templates.contains(variable))
            .as("%s %s: the chart passes %s or %s", command, flag, flag, variable)
            .isTrue();
        checked.add(command + " " + flag);
      }
    }
    assertThat(checked).hasSizeGreaterThan(25);
  }

  private static boolean lookup(Map<String, Object> values, String path) {
    Object at = values;
    for (String key : path.split("\\.")) {
      if (!(at instanceof Map<?, ?> map) || !map.containsKey(key)) {
        return false;
      }
      at = map.get(key);
    }
    return true;
  }

  private static String templates() throws IOException {
    StringBuilder all = new StringBuilder();
    try (Stream<Path> files = Files.list(ProjectFiles.root().resolve("charts/strata/templates"))) {
      for (Path file : files.toList()) {
        all.append(Files.readString(file));
      }
    }
    return all.toString();
  }
}
