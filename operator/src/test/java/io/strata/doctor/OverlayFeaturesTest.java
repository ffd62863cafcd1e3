package io.strata.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which probe findings name which feature in NodeLayerState's status.agent.overlayFeatures. */
class OverlayFeaturesTest {
  @Test
  void onlyOptionalFeaturesThatPassedAreNamed() {
    List<Finding> findings =
        List.of(
            Finding.ok("overlay mount", "mounted"),
            Finding.ok("overlay volatile", "supported"),
            Finding.warn("overlay userxattr", "not supported: EINVAL"),
            Finding.ok("overlay lowers", "two stacked lowers"),
            Finding.ok("RENAME_WHITEOUT", "supported"));

    assertThat(OverlayFeatures.supported(findings)).containsExactly("volatile", "rename-whiteout");
  }

  @Test
  void aNodeWithoutThemReportsNone() {
    assertThat(
            OverlayFeatures.supported(
                List.of(
                    Finding.fail("overlay mount", "ENODEV"),
                    Finding.warn("overlay volatile", "not supported"),
                    Finding.warn("RENAME_WHITEOUT", "EINVAL"))))
        .isEmpty();
  }
}
