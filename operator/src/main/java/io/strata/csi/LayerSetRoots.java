package io.strata.csi;

import java.nio.file.Path;

/** What a pod volume needs from the agent: a LayerSet's root on this node. */
@FunctionalInterface
public interface LayerSetRoots {
  /**
   * The Ready root of LayerSet {@code name} on this node, for a volume of a pod in {@code
   * namespace}.
   *
   * @throws VolumeRefusedException NOT_FOUND when there is no such LayerSet, FAILED_PRECONDITION
   *     when it is being deleted or not served here, PERMISSION_DENIED when its volumeAccess does
   *     not admit the namespace, UNAVAILABLE while it is not Ready here (the message says where it
   *     stands)
   */
  Path rootFor(String name, String namespace) throws VolumeRefusedException;
}
