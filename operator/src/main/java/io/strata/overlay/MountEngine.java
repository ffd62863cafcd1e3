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
  /**
   * The kernel's mount table, read now: a pass reads it once and hands it to each {@link
   * #mount(MountRequest, MountTable)} and {@link #unmount(String, boolean, MountTable)}.
   */
  MountTable readMountTable() throws IOException;

  /** Strata's overlays beneath this node's mount base in {@code table}, by uid. */
  Map<String, MountInfo> mounted(MountTable table);

  /** Mounts {@code request}, or adopts it when an earlier run already did. */
  MountedOverlay mount(MountRequest request) throws MountRefusedException, IOException;

  /**
   * As {@link #mount(MountRequest)}, deciding on {@code snapshot} (a table this engine read in the
   * same pass, with what it mounted and unmounted since) instead of reading the table again.
   */
  MountedOverlay mount(MountRequest request, MountTable snapshot)
      throws MountRefusedException, IOException;

  /**
   * Unmounts mount {@code uid} wherever it is beneath the mount base, and when {@code deleteUpper}
   * removes its upper.
   *
   * @return the targets that were unmounted
   */
  List<Path> unmount(String uid, boolean deleteUpper) throws MountRefusedException, IOException;

  /**
   * As {@link #unmount(String, boolean)}, finding the mounts in {@code snapshot} (as for {@link
   * #mount(MountRequest, MountTable)}); each is checked on its handle before it is unmounted.
   */
  List<Path> unmount(String uid, boolean deleteUpper, MountTable snapshot)
      throws MountRefusedException, IOException;
}
