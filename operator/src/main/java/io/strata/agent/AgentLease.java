package io.strata.agent;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.strata.kube.Apply;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;

/**
 * The agent's heartbeat: Lease {@code strata-agent-<node>} in Strata's namespace, renewed on a
 * schedule. The controller treats a node whose Lease has been expired for longer than a grace
 * period as gone, so its deletions need not wait for it.
 */
final class AgentLease {

  private final KubernetesClient client;
  private final AgentConfig config;
  private final Clock clock;

  AgentLease(KubernetesClient client, AgentConfig config, Clock clock) {
    this.client = client;
    this.config = config;
    this.clock = clock;
  }

  Lease renew() {
    Lease lease =
        new LeaseBuilder()
            .withNewMetadata()
            .withName(config.leaseName())
            .withNamespace(config.namespace())
            .addToLabels("app.kubernetes.io/name", "strata")
            .addToLabels("app.kubernetes.io/component", "agent")
            .endMetadata()
            .withNewSpec()
            .withHolderIdentity(config.nodeName())
            .withLeaseDurationSeconds((int) config.leaseDuration().toSeconds())
            .withRenewTime(ZonedDateTime.now(clock).truncatedTo(ChronoUnit.MICROS))
            .endSpec()
            .build();
    return Apply.object(client, Agent.FIELD_MANAGER, lease);
  }
}
