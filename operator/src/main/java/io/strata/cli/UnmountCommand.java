package io.strata.cli;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.layout.NodeLayout;
import io.strata.overlay.Overlays;
import io.strata.sys.Syscalls;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "unmount",
    description = "Unmount overlay NAME made by 'strata mount' and delete its upper.")
final class UnmountCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin NodePaths paths;

  @Option(names = "--retain-upper", description = "Keep the upper (default: delete it).")
  boolean retainUpper;

  @Option(names = "--json", description = "Print what was unmounted as one JSON object.")
  boolean json;

  @Parameters(paramLabel = "NAME")
  String name;

  @Override
  public Integer call() throws Exception {
    Overlays overlays =
        new Overlays(new NodeLayout(paths.stateDir, paths.mountBase), Syscalls.get());
    List<Path> unmounted = overlays.unmount(name, !retainUpper);
    if (json) {
      spec.commandLine()
          .getOut()
          .println(
              Serialization.asJson(
                  Map.of(
                      "name", name,
                      "unmounted", unmounted.stream().map(Path::toString).toList(),
                      "upperDeleted", !retainUpper)));
    } else {
      spec.commandLine()
          .getOut()
          .println(
              unmounted.isEmpty()
                  ? name + " was not mounted"
                  : "unmounted " + name + " from " + unmounted.getFirst());
    }
    spec.commandLine().getOut().flush();
    return 0;
  }
}
