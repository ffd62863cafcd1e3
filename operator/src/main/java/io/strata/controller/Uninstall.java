package io.strata.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.strata.crd.LayerSet;
import io.strata.crd.OverlayMount;
import io.strata.crd.StrataApi;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * For removing Strata: takes the controller's finalizer off every LayerSet and OverlayMount, so
 * nothing is left stuck once the controller is gone. Nodes keep whatever they hold; delete the
 * resources first and wait for them to go if the nodes should be cleaned.
 */
public final class Uninstall {
  private static final Logger log = LoggerFactory.getLogger(Uninstall.class);

  private Uninstall() {}

  /** Returns how many objects lost the finalizer. */
  public static int removeFinalizers(KubernetesClient client) {
    int removed = 0;
    for (Class<? extends HasMetadata> kind : List.of(OverlayMount.class, LayerSet.class)) {
      for (HasMetadata object : client.resources(kind).list().getItems()) {
        if (object.getMetadata().getFinalizers().contains(StrataApi.TEARDOWN_FINALIZER)) {
          client
              .resource(object)
              .edit(
                  o -> {
                    o.getMetadata().getFinalizers().remove(StrataApi.TEARDOWN_FINALIZER);
                    return o;
                  });
          log.info(
              "removed {} from {} {}",
              StrataApi.TEARDOWN_FINALIZER,
              object.getKind(),
              object.getMetadata().getName());
          removed++;
        }
      }
    }
    return removed;
  }
}
