package io.strata.overlay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.layout.NodeLayout;
import io.strata.overlay.MountRefusedException.Reason;
import io.strata.sys.Syscalls;
import io.strata.testing.RootMounts;
import io.strata.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pass reads the mount table once and mounts and unmounts on it, with real mounts: it decides as
 * a fresh read would, for what the engine itself did in the pass and for what others did since.
 */
class PassViewTest {
  @TempDir Path tmp;

  private RootMounts node;
  private Overlays overlays;
  private final AtomicInteger reads = new AtomicInteger();

  @BeforeEach
  void prepare() throws IOException {
    node = RootMounts.prepare(tmp);
    MountTableSource counted =
        () -> {
          reads.incrementAndGet();
          return MountTable.read();
        };
    overlays =
        new Overlays(
            new NodeLayout(node.stateDir, node.mountBase),
            Syscalls.get(),
            counted,
            List.of(java.time.Duration.ofMillis(50)));
    Files.writeString(node.lower.resolve("f"), "lower\n");
  }

  @AfterEach
  void cleanUp() throws IOException {
    if (node != null) {
      node.cleanUp();
    }
  }

  /** Ten mounts and their unmounts in one pass: one read of the table, not twenty or more. */
  @Test
  void aPassReadsTheTableOnce() throws Exception {
    MountTable pass = overlays.readMountTable();
    for (int i = 0; i < 10; i++) {
      overlays.mount(MountRequest.disk("u" + i, "m" + i, node.lower), pass);
    }
    for (int i = 0; i < 10; i++) {
      assertThat(overlays.unmount("u" + i, true, pass))
          .containsExactly(node.mountBase.resolve("m" + i));
    }
    assertThat(reads).hasValue(1);
    assertThat(node.mountsBeneath())
        .as("everything the pass mounted is gone")
        .allSatisfy(m -> assertThat(m.mountPoint()).isEqualTo(node.mountBase));
  }

  /** What the pass mounted counts for what it mounts next: nested targets are still refused. */
  @Test
  void aMountMadeEarlierInThePassRefusesATargetThatWouldNestWithIt() throws Exception {
    MountTable pass = overlays.readMountTable();
    overlays.mount(
        MountRequest.disk("inner", "inner", node.lower)
            .withTarget(node.mountBase.resolve("a/b").toString()),
        pass);
    assertThatThrownBy(
            () ->
                overlays.mount(
                    MountRequest.disk("outer", "outer", node.lower)
                        .withTarget(node.mountBase.resolve("a").toString()),
                    pass))
        .isInstanceOf(MountRefusedException.class)
        .satisfies(e -> assertThat(((MountRefusedException) e).reason()).isEqualTo(Reason.Conflict))
        .hasMessageContaining("nests with Strata mount " + node.mountBase.resolve("a/b"));
    assertThatThrownBy(() -> overlays.mount(MountRequest.disk("inner", "again", node.lower), pass))
        .as("the same mount twice")
        .hasMessageContaining("already mounted at " + node.mountBase.resolve("a/b"));
  }

  /** A mount made in the pass is adopted, not made again, when the pass asks for it once more. */
  @Test
  void aMountMadeEarlierInThePassIsAdoptedFromIt() throws Exception {
    MountTable pass = overlays.readMountTable();
    MountedOverlay made = overlays.mount(MountRequest.disk("u1", "env", node.lower), pass);
    MountedOverlay again = overlays.mount(MountRequest.disk("u1", "env", node.lower), pass);
    assertThat(made.adopted()).isFalse();
    assertThat(again.adopted()).isTrue();
    assertThat(reads).as("adopted from the pass's view, without reading again").hasValue(1);
    assertThat(node.mountsBeneath()).filteredOn(m -> m.source().equals("strata:u1")).hasSize(1);
  }

  /** Something another process mounted at the target since the pass's read: never mounted over. */
  @Test
  void aMountSomeoneElseMadeSinceTheReadIsNeverMountedOver() throws Exception {
    MountTable pass = overlays.readMountTable();
    Path target = Files.createDirectories(node.mountBase.resolve("taken"));
    Tools.run(Path.of("/"), "mount", "-t", "tmpfs", "someone-else", target.toString());
    assertThatThrownBy(() -> overlays.mount(MountRequest.disk("u1", "taken", node.lower), pass))
        .isInstanceOf(MountRefusedException.class)
        .satisfies(
            e -> assertThat(((MountRefusedException) e).reason()).isEqualTo(Reason.Conflict));
    assertThat(MountTable.read().at(target).orElseThrow().fsType()).isEqualTo("tmpfs");
  }

  /** An overlay someone else unmounted since the read: the unmount looks again and finds none. */
  @Test
  void aMountSomeoneElseRemovedSinceTheReadIsLookedForAgain() throws Exception {
    overlays.mount(MountRequest.disk("u1", "env", node.lower));
    MountTable pass = overlays.readMountTable();
    reads.set(0);
    Tools.run(Path.of("/"), "umount", node.mountBase.resolve("env").toString());
    assertThat(overlays.unmount("u1", false, pass)).isEmpty();
    assertThat(reads).as("one fresh look").hasValue(1);
  }
}
