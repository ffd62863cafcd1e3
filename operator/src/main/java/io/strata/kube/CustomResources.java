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

  /**
   * Blocks until every CRD for {@code kinds} is Established; logs why it waits, once for each
   * reason (not installed yet, or not readable by this account).
   */
  public static void awaitEstablished(
      KubernetesClient client, List<Class<? extends HasMetadata>> kinds, Duration poll)
      throws InterruptedException {
    for (Class<? extends HasMetadata> kind : kinds) {
      String name = HasMetadata.getFullResourceName(kind);
      String said = null;
      for (String waiting; (waiting = whyWaiting(client, name)) != null; ) {
        if (!waiting.equals(said)) {
          log.warn("waiting for CRD {}: {}", name, waiting);
          said = waiting;
        }
        Thread.sleep(poll.toMillis());
      }
      if (said != null) {
        log.info("CRD {} is established", name);
      }
    }
  }

  /** Why CRD {@code name} cannot be used yet, or null once it is Established. */
  public static String whyWaiting(KubernetesClient client, String name) {
    try {
      return isEstablished(
              client.apiextensions().v1().customResourceDefinitions().withName(name).get())
          ? null
          : "not installed or not yet established (install it with kubectl apply -f crds/)";
    } catch (KubernetesClientException e) {
      return e.getCode() == 403
          ? "this account may not read it (HTTP 403): check its RBAC"
          : "cannot read it: " + e.getMessage();
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
