package io.strata.cli;

import io.strata.doctor.Doctor;
import io.strata.doctor.Finding;
import io.strata.sys.Syscalls;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(
    name = "doctor",
    description =
        "Check this node for Strata; exits non-zero only when overlays cannot work here at all.")
final class DoctorCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin NodePaths paths;

  @Override
  public Integer call() throws Exception {
    List<Finding> findings = new Doctor(paths.stateDir, paths.mountBase, Syscalls.get()).run();
    spec.commandLine().getOut().print(Doctor.table(findings));
    spec.commandLine().getOut().flush();
    return findings.stream().anyMatch(f -> f.severity() == Finding.Severity.FAIL) ? 1 : 0;
  }
}
