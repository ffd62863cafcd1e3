package io.strata.cli;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.strata.crd.ByteQuantity;
import io.strata.layout.NodeLayout;
import io.strata.overlay.MountRequest;
import io.strata.overlay.MountedOverlay;
import io.strata.overlay.Overlays;
import io.strata.sys.Syscalls;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "mount",
    description =
        "Mount one overlay of ROOT at <mount base>/NAME (or --target), with the agent's engine.")
final class MountCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin NodePaths paths;

  @Option(names = "--lower", paramLabel = "ROOT", required = true, description = "The lower root.")
  Path lower;

  @Option(names = "--read-only", description = "No upper; mounted read-only.")
  boolean readOnly;

  @Option(
      names = "--memory",
      paramLabel = "QUANTITY",
      description = "A Memory upper: a tmpfs of this size, e.g. 64Mi.")
  String memory;

  @Option(
      names = "--target",
      paramLabel = "PATH",
      description = "Where to mount; strictly beneath the mount base.")
  String target;

  @Option(names = "--json", description = "Print the mount made as one JSON object.")
  boolean json;

  @Parameters(paramLabel = "NAME", description = "The mount's name: a DNS label.")
  String name;

  @Override
  public Integer call() throws Exception {
    Overlays overlays =
        new Overlays(new NodeLayout(paths.stateDir, paths.mountBase), Syscalls.get());
    overlays
        .mountBaseProblem()
        .ifPresent(p -> spec.commandLine().getErr().println("warning: " + p));
    MountRequest request;
    try {
      request = MountRequest.disk(name, name, lower.toAbsolutePath()).withTarget(target);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    if (readOnly && memory != null) {
      throw new ParameterException(
          spec.commandLine(), "--read-only mounts have no upper: drop --memory");
    }
    if (readOnly) {
      request = request.asReadOnly();
    }
    if (memory != null) {
      request = request.inMemory(bytes(memory));
    }
    MountedOverlay mounted = overlays.mount(request);
    if (json) {
      spec.commandLine().getOut().println(Serialization.asJson(describe(name, mounted)));
    } else {
      spec.commandLine()
          .getOut()
          .println(
              (mounted.adopted() ? "already mounted: " : "mounted ")
                  + name
                  + " at "
                  + mounted.target());
    }
    spec.commandLine().getOut().flush();
    return 0;
  }

  private long bytes(String quantity) {
    try {
      return ByteQuantity.parse("--memory", quantity);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  static Map<String, Object> describe(String name, MountedOverlay mounted) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("name", name);
    out.put("source", mounted.spec().source());
    out.put("target", mounted.target().toString());
    out.put("fsType", mounted.spec().fsType());
    out.put("flags", mounted.spec().flags());
    out.put("options", mounted.spec().data());
    out.put("upperdir", mounted.upperDir() == null ? null : mounted.upperDir().toString());
    out.put("workdir", mounted.workDir() == null ? null : mounted.workDir().toString());
    out.put("adopted", mounted.adopted());
    if (mounted.previousLower() != null) {
      out.put("previousLower", mounted.previousLower().toString());
    }
    return out;
  }
}
