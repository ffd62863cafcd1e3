package io.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.Version;
import io.strata.agent.AgentConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

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
    org.junit.jupiter.api.Assumptions.assumeTrue(
        System.getenv().keySet().stream().noneMatch(k -> k.startsWith("STRATA_")),
        "STRATA_* variables set in this environment change the command's defaults");
    var cli = Main.commandLine();
    cli.parseArgs("agent", "--node-name=n", "--state-dir=/s", "--mount-base=/m");
    AgentCommand agent = cli.getSubcommands().get("agent").getCommand();
    assertThat(agent.config())
        .isEqualTo(AgentConfig.builder("n", Path.of("/s"), Path.of("/m")).httpPort(8080).build());
  }

  @Test
  void anUnknownCommandIsAUsageError() {
    assertThat(run("frobnicate")).isEqualTo(2);
    assertThat(err.toString()).startsWith("strata: Unmatched argument");
  }
}
