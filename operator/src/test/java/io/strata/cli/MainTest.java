package io.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.Version;
import io.strata.agent.AgentConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    var cli = Main.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    return cli.execute(args);
  }

  @Test
  void versionPrintsTheBuildsVersion() {
    assertThat(run("version")).isZero();
    assertThat(out.toString().strip()).isEqualTo("strata " + Version.get());
    assertThat(Version.get()).matches("\\d+\\.\\d+\\.\\d+.*");
  }

  @Test
  void anAgentWithoutANodeNameFailsWithOneClearLine() {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        System.getenv("NODE_NAME") == null, "NODE_NAME is set in this environment");
    assertThat(run("agent", "--http-port", "0")).isEqualTo(2);
    assertThat(err.toString().lines())
        .containsExactly("strata agent: --node-name or NODE_NAME is required (see --help)");
  }

  @Test
  void theAgentCommandsDefaultsAreAgentConfigsDefaults() {
    List<String> given = List.of("--node-name", "--state-dir", "--mount-base");
    // Each other option's default comes from a variable when it is set (${env:NAME:-default}).
    CommandLine uninterpolated = Main.commandLine().setInterpolateVariables(false);
    List<String> setHere =
        uninterpolated.getSubcommands().get("agent").getCommandSpec().options().stream()
            .filter(o -> !given.contains(o.longestName()) && o.defaultValue() != null)
            .flatMap(o -> ENV_DEFAULT.matcher(o.defaultValue()).results())
            .map(m -> m.group(1))
            .filter(name -> System.getenv(name) != null)
            .toList();
    org.junit.jupiter.api.Assumptions.assumeTrue(
        setHere.isEmpty(), "set in this environment, these change the defaults: " + setHere);
    var cli = Main.commandLine();
    cli.parseArgs("agent", "--node-name=n", "--state-dir=/s", "--mount-base=/m");
    AgentCommand agent = cli.getSubcommands().get("agent").getCommand();
    // The command serves the CSI plugin by default; an AgentConfig built in code does not.
    assertThat(agent.config())
        .isEqualTo(
            AgentConfig.builder("n", Path.of("/s"), Path.of("/m"))
                .httpPort(8080)
                .csi(
                    new AgentConfig.CsiSettings(
                        Path.of("/var/lib/kubelet"), AgentConfig.CsiSettings.DEFAULT_SIZES))
                .build());
  }

  private static final Pattern ENV_DEFAULT = Pattern.compile("\\$\\{env:(\\w+)");

  @Test
  void anUnknownCommandIsAUsageError() {
    assertThat(run("frobnicate")).isEqualTo(2);
    assertThat(err.toString()).startsWith("strata: Unmatched argument");
  }
}
