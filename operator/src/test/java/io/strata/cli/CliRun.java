package io.strata.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * Strata's command line run in the test's JVM, as a user runs it, keeping what the last run
 * printed.
 */
final class CliRun {
  private StringWriter out = new StringWriter();
  private StringWriter err = new StringWriter();

  /** Runs {@code strata ARGS...}; its exit code. */
  int run(String... args) {
    out = new StringWriter();
    err = new StringWriter();
    var cli = Main.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    return cli.execute(args);
  }

  String out() {
    return out.toString();
  }

  String err() {
    return err.toString();
  }
}
