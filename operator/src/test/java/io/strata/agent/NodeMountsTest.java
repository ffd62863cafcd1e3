package io.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Quantity;
import io.strata.crd.NodeLayerState.MountPhase;
import io.strata.crd.NodeLayerState.OverlayMountEntry;
import io.strata.crd.OverlayMount;
import io.strata.layout.NodeLayout;
import io.strata.overlay.MountTable;
import io.strata.overlay.Overlays;
import io.strata.sys.Syscalls;
import io.strata.testing.RootMounts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One node's mounts, with real mounts: each OverlayMount's failure is its own. */
class NodeMountsTest {
  @TempDir Path tmp;
  private RootMounts node;
  private NodeMounts mounts;
  private Map<String, Path> ready;

  @BeforeEach
  void prepare() throws Exception {
    node = RootMounts.prepare(tmp);
    NodeLayout layout = new NodeLayout(node.stateDir, node.mountBase);
    mounts = new NodeMounts(new Overlays(layout, Syscalls.get()), layout);
    Files.writeString(node.lower.resolve("file"), "lower");
    ready = Map.of("ls", node.lower);
  }

  @AfterEach
  void cleanUp() throws Exception {
    if (node != null) {
      node.cleanUp();
    }
  }

  /**
   * A size the schema of an older release let through fails that mount, naming the field, and the
   * pass goes on: the other mount is made.
   */
  @Test
  void aMountWithASizeNoAgentCanHonourFailsAloneAndTheOthersAreMade() throws Exception {
    OverlayMount bad = SelectionTest.mount("bad", "ls", null);
    bad.getMetadata().setUid("uid-bad");
    bad.getSpec().upper = new OverlayMount.Upper();
    bad.getSpec().upper.medium = OverlayMount.Medium.Memory;
    bad.getSpec().upper.sizeLimit = new Quantity("100m");
    OverlayMount good = SelectionTest.mount("good", "ls", null);
    good.getMetadata().setUid("uid-good");

    List<OverlayMountEntry> entries = mounts.reconcile(List.of(bad, good), ready);

    assertThat(entries)
        .filteredOn(e -> e.name.equals("bad"))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.phase).isEqualTo(MountPhase.Failed);
              assertThat(e.reason).isEqualTo("InvalidSpec");
              assertThat(e.message).contains("spec.upper.sizeLimit is \"100m\"");
            });
    assertThat(entries)
        .filteredOn(e -> e.name.equals("good"))
        .singleElement()
        .satisfies(e -> assertThat(e.phase).as(e.message).isEqualTo(MountPhase.Mounted));
    assertThat(MountTable.read().at(node.mountBase.resolve("good"))).isPresent();
    assertThat(MountTable.read().at(node.mountBase.resolve("bad"))).isEmpty();
  }

  /** A disk error while one mount is prepared fails that mount; the pass makes the others. */
  @Test
  void anIoErrorPreparingOneMountFailsOnlyThatMount() throws Exception {
    OverlayMount broken = SelectionTest.mount("broken", "ls", null);
    broken.getMetadata().setUid("uid-broken");
    OverlayMount good = SelectionTest.mount("good", "ls", null);
    good.getMetadata().setUid("uid-good");
    // Where its upper's home would go, a file: preparing that upper fails with an I/O error.
    Files.createDirectories(node.stateDir.resolve("uppers"));
    Files.writeString(node.stateDir.resolve("uppers/uid-broken"), "in the way");

    List<OverlayMountEntry> entries = mounts.reconcile(List.of(broken, good), ready);

    assertThat(entries)
        .filteredOn(e -> e.name.equals("broken"))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.phase).isEqualTo(MountPhase.Failed);
              assertThat(e.reason).isEqualTo("IOError");
              assertThat(e.message).contains("uid-broken");
            });
    assertThat(entries)
        .filteredOn(e -> e.name.equals("good"))
        .singleElement()
        .satisfies(e -> assertThat(e.phase).as(e.message).isEqualTo(MountPhase.Mounted));
  }
}
