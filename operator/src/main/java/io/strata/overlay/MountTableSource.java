package io.strata.overlay;

import java.io.IOException;

/** Where the mount engine reads the kernel's mount table: {@link MountTable#read()} on a node. */
@FunctionalInterface
public interface MountTableSource {
  MountTableSource KERNEL = MountTable::read;

  MountTable read() throws IOException;
}
