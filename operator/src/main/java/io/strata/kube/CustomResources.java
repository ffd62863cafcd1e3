package io.strata.kube;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Waits until Strata's CRDs are installed and established, saying clearly what is missing. */
public final class CustomResources {
  private static final Logger log = LoggerFactory.getLogger(CustomResources.class);

  private CustomResources() {}

  /** Blocks until every CRD for {@code kinds} is Established; logs what it waits for. */
  public static void awaitEstablished(
      KubernetesClient client, List<Class<? extends HasMetadata>> kinds, Duration poll)
      throws InterruptedException {
    for (Class<? extends HasMetadata> kind : kinds) {
      String name = HasMetadata.getFullResourceName(kind);
      boolean said = false;
      while (!isEstablished(client, name)) {
        if (!said) {
          log.warn(
              "CRD {} is not installed or not yet established; waiting (install it with"
                  + " kubectl apply -f crds/)",
              name);
          said = true;
        }
        Thread.sleep(poll.toMillis());
      }
      if (said) {
        log.info("CRD {} is established", name);
      }
    }
  }

  static boolean isEstablished(KubernetesClient client, String name) {
    try {
      return isEstablished(
          client.apiextensions().v1().customResourceDefinitions().withName(name).get());
    } catch (KubernetesClientException e) {
      String refused = e.getCode() == 403 ? " (refused: check this account's RBAC)" : "";
      log.warn("cannot read CRD {}{}: {}", name, refused, e.getMessage());
      return false;
    }
  }

  /** Whether the API server serves {@code crd} (its Established condition is True). */
  public static boolean isEstablished(CustomResourceDefinition crd) {
    return crd != null
        && crd.getStatus() != null
        && crd.getStatus().getConditions() != null
        && crd.getStatus().getConditions().stream()
            .anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
  }
}
