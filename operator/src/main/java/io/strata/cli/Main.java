package io.strata.cli;

import io.strata.ReasonedException;
import io.strata.Version;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar strata.jar <command>}: the one entry point of every Strata process. */
@Command(
    name = "strata",
    mixinStandardHelpOptions = true,
    versionProvider = Main.VersionProvider.class,
    description = "Filesystem layers cached on Kubernetes nodes, mounted as overlays.",
    subcommands = {
      AgentCommand.class,
      ControllerCommand.class,
      MaterializeCommand.class,
      MountCommand.class,
      UnmountCommand.class,
      DoctorCommand.class,
      VersionCommand.class
    })
public final class Main {

  public static void main(String[] args) {
    // jffi's default memory accessor uses sun.misc.Unsafe, which Java 25 warns about on stderr;
    // its native accessor is equivalent for the few structs Strata reads.
    System.setProperty("jffi.unsafe.disabled", "true");
    System.exit(commandLine().execute(args));
  }

  /** The configured command line; errors become one line on stderr and a non-zero exit. */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          commandLine.getErr().println(prefix(commandLine) + ": " + message(e));
          return 1;
        });
    cli.setParameterExceptionHandler(
        (e, args) -> {
          CommandLine failed = e.getCommandLine();
          failed.getErr().println(prefix(failed) + ": " + e.getMessage() + " (see --help)");
          return 2;
        });
    return cli;
  }

  /** {@code strata} or {@code strata <command>}. */
  private static String prefix(CommandLine command) {
    return command.getParent() == null ? "strata" : "strata " + command.getCommandName();
  }

  private static String message(Throwable e) {
    if (e instanceof ReasonedException refused) {
      return refused.reason() + ": " + refused.getMessage();
    }
    String message = e.getMessage();
    return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
  }

  static final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"strata " + Version.get()};
    }
  }
}
