package io.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import io.strata.crd.NodeLayerState.MountPhase;
import io.strata.crd.NodeLayerState.OverlayMountEntry;
import org.junit.jupiter.api.Test;

class AgentMetricsTest {
  @Test
  void gaugesFollowTheLastStatusAndTheScrapeIsPrometheusText() {
    AgentMetrics metrics = new AgentMetrics();
    NodeLayerState.Status status = new NodeLayerState.Status();
    status.layerSets.add(layerSet(LayerSetPhase.Ready, 1000L, 7L));
    status.layerSets.add(layerSet(LayerSetPhase.Ready, 500L, 3L));
    status.layerSets.add(layerSet(LayerSetPhase.Failed, null, null));
    OverlayMountEntry mounted = new OverlayMountEntry();
    mounted.phase = MountPhase.Mounted;
    status.overlayMounts.add(mounted);
    metrics.observe(status);
    metrics.fetchedBytes.increment(42);

    String scrape = metrics.scrape();
    assertThat(scrape)
        .contains("strata_cache_bytes 1500.0")
        .contains("strata_cache_files 10.0")
        .contains("strata_mounts 1.0")
        .contains("strata_layersets{phase=\"Ready\"} 2.0")
        .contains("strata_layersets{phase=\"Failed\"} 1.0")
        .contains("strata_fetched_bytes_total 42.0")
        .contains("# TYPE strata_materialize_seconds");

    metrics.observe(new NodeLayerState.Status());
    assertThat(metrics.scrape())
        .contains("strata_layersets{phase=\"Ready\"} 0.0")
        .contains("strata_mounts 0.0");
  }

  private static LayerSetEntry layerSet(LayerSetPhase phase, Long bytes, Long files) {
    LayerSetEntry entry = new LayerSetEntry();
    entry.phase = phase;
    entry.bytes = bytes;
    entry.files = files;
    return entry;
  }
}
