package io.strata.overlay;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What the agent asks of the node's mount engine ({@link Overlays}): what is mounted, mount or
 * adopt, unmount. An interface so that what the agent decides about its mounts tests without root
 * against an engine of the test's own.
 */
public interface MountEngine {
  /** The kernel's mount table, read now. */
  MountTable readMountTable() throws IOException;

  /** Strata's overlays beneath this node's mount base in {@code table}, by uid. */
  Map<String, MountInfo> mounted(MountTable table);

  /** Mounts {@code request}, or adopts it when an earlier run already did. */
  MountedOverlay mount(MountRequest request) throws MountRefusedException, IOException;

  /** As {@link #mount(MountRequest)}, adopting from {@code snapshot} when it shows the mount. */
  MountedOverlay mount(MountRequest request, MountTable snapshot)
      throws MountRefusedException, IOException;

  /**
   * Unmounts mount {@code uid} wherever it is beneath the mount base, and when {@code deleteUpper}
   * removes its upper.
   *
   * @return the targets that were unmounted
   */
  List<Path> unmount(String uid, boolean deleteUpper) throws MountRefusedException, IOException;
}
