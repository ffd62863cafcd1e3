package io.strata.deploy;

import io.strata.testing.NodeScenario;
import io.strata.testing.RealNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Strata installed by Helm on a real node of this machine (kubelet, containerd, runc; {@link
 * RealNode}), with the image Jib built, and used by pods: {@link NodeScenario}.
 */
@ExtendWith(RealNode.class)
class RealNodeIT {
  @Test
  void strataInstalledWithHelmServesPodsOnARealNode(RealNode.Node node) throws Exception {
    new NodeScenario(node).run();
  }
}
