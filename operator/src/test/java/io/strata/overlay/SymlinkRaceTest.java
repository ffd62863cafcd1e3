package io.strata.overlay;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.layout.NodeLayout;
import io.strata.sys.Fd;
import io.strata.sys.Syscalls;
import io.strata.testing.RootMounts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pod that can write the mount base swaps a directory on the target's path for a symlink to
 * somewhere else, as fast as it can, while the engine mounts and unmounts. Every mount must land
 * beneath the base, or be refused; nothing may appear outside.
 */
class SymlinkRaceTest {
  private static final int ITERATIONS = 2000;

  @TempDir Path tmp;
  private RootMounts node;

  @AfterEach
  void cleanUp() throws Exception {
    if (node != null) {
      node.cleanUp();
    }
  }

  /**
   * An unmount that finds the mount's name swapped fifty times in a row gives up for now, and the
   * agent tries again on its next pass: with a rename in a tight loop beside it, one in a few
   * thousand does here. What this test asserts is where mounts land, not that.
   */
  private static void unmountAsTheAgentDoes(Overlays overlays) throws Exception {
    for (int pass = 1; ; pass++) {
      try {
        overlays.unmount("racer", true);
        return;
      } catch (MountRefusedException e) {
        if (e.reason() != MountRefusedException.Reason.MountFailed || pass == 5) {
          throw e;
        }
      }
    }
  }

  @Test
  void aSymlinkSwappedInDuringMountsNeverRedirectsOne() throws Exception {
    node = RootMounts.prepare(tmp);
    Overlays overlays = new Overlays(new NodeLayout(node.stateDir, node.mountBase), Syscalls.get());
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.createDirectories(node.mountBase.resolve("race"));
    Files.createSymbolicLink(node.mountBase.resolve("swap"), outside);

    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger swaps = new AtomicInteger();
    Thread attacker =
        Thread.ofPlatform()
            .start(
                () -> {
                  Syscalls sys = Syscalls.get();
                  try (Fd base = sys.openDirectoryHandle(node.mountBase)) {
                    while (!stop.get()) {
                      sys.renameExchange(base, "race", "swap");
                      swaps.incrementAndGet();
                    }
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                });

    int mounted = 0;
    int refused = 0;
    String target = node.mountBase.resolve("race/t").toString();
    try {
      for (int i = 0; i < ITERATIONS; i++) {
        try {
          overlays.mount(MountRequest.disk("racer", "racer", node.lower).withTarget(target));
          mounted++;
        } catch (MountRefusedException e) {
          refused++;
        }
        for (MountInfo m : MountTable.read().mounts()) {
          assertThat(m.mountPoint().startsWith(outside)).as("a mount outside: %s", m).isFalse();
        }
        unmountAsTheAgentDoes(overlays);
      }
    } finally {
      stop.set(true);
      attacker.join();
    }
    try (var left = Files.list(outside)) {
      assertThat(left).as("nothing created outside the base").isEmpty();
    }
    assertThat(swaps.get()).as("the attacker really raced").isGreaterThan(ITERATIONS);
    assertThat(mounted + refused).isEqualTo(ITERATIONS);
    assertThat(mounted).as("some mounts still succeed").isPositive();
  }
}
