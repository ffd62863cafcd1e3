package io.strata.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The two node paths every node-side command takes, each also read from the environment. */
final class NodePaths {
  @Option(
      names = "--state-dir",
      paramLabel = "DIR",
      defaultValue = "${env:STRATA_STATE_DIR:-/var/lib/strata}",
      description = "Layer cache and agent state (env STRATA_STATE_DIR; default ${DEFAULT-VALUE}).")
  Path stateDir;

  @Option(
      names = "--mount-base",
      paramLabel = "DIR",
      defaultValue = "${env:STRATA_MOUNT_BASE:-/mnt/strata}",
      description =
          "The only place overlays are mounted; a shared mount (env STRATA_MOUNT_BASE;"
              + " default ${DEFAULT-VALUE}).")
  Path mountBase;
}
