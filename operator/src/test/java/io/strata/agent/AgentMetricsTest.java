package io.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.crd.NodeLayerState;
import io.strata.crd.NodeLayerState.LayerSetEntry;
import io.strata.crd.NodeLayerState.LayerSetPhase;
import io.strata.crd.NodeLayerState.MountPhase;
import io.strata.crd.NodeLayerState.OverlayMountEntry;
import io.strata.layerstore.LayerStore;
import io.strata.layerstore.LayerStore.LayerSource;
import io.strata.layout.StoreLayout;
import io.strata.sys.Syscalls;
import io.strata.tarapply.Limits;
import io.strata.testing.TarBuilder;
import io.strata.testing.Tools;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

  @Test
  void layersAppliedCountsWhatTheStoreExtractedNotWhatItReused(@TempDir Path tmp) throws Exception {
    Tools.requireRoot("materializing sets owners, which needs root");
    LayerStore store =
        new LayerStore(new StoreLayout(tmp.resolve("state")), Syscalls.get(), Limits.DEFAULT);
    AgentMetrics metrics = new AgentMetrics();
    metrics.countLayersApplied(store);
    Path layer = new TarBuilder().file("f", "content").write(tmp.resolve("layer.tar"));
    store.materialize(List.of(new LayerSource(layer, null, null)));
    store.materialize(List.of(new LayerSource(layer, null, null)));
    assertThat(metrics.scrape()).contains("strata_layers_applied_total 1.0");
  }

  private static LayerSetEntry layerSet(LayerSetPhase phase, Long bytes, Long files) {
    LayerSetEntry entry = new LayerSetEntry();
    entry.phase = phase;
    entry.bytes = bytes;
    entry.files = files;
    return entry;
  }
}
