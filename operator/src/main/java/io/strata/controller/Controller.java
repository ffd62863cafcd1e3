package io.strata.controller;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.strata.crd.LayerSet;
import io.strata.crd.NodeLayerState;
import io.strata.crd.OverlayMount;
import io.strata.crd.StrataApi;
import io.strata.kube.CustomResources;
import io.strata.kube.EventRecorder;
import io.strata.kube.HealthServer;
import io.strata.kube.MetricsRegistry;
import io.strata.registry.PullSecrets;
import io.strata.registry.RegistryClient;
import io.strata.registry.RegistrySettings;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster-wide controller: JOSDK reconcilers for LayerSets and OverlayMounts, active only while
 * this process holds the leader Lease {@code strata-controller} in Strata's namespace.
 */
public final class Controller implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Controller.class);

  private final KubernetesClient client;
  private final String namespace;
  private final String identity;
  private final int httpPort;
  private final Runnable onLostLeadership;
  private final Duration nodeGrace;
  private RegistrySettings registries = RegistrySettings.DEFAULT;
  private NodeLabels labels;

  /** JOSDK's reconciler metrics (executions, failures, durations), served at /metrics. */
  private final PrometheusMeterRegistry metrics = MetricsRegistry.create();

  private volatile boolean closing;
  private Operator operator;
  private HealthServer health;

  /**
   * @param nodeGrace how long after its agent's Lease expired a node stops blocking deletions
   * @param onLostLeadership run when this process loses the Lease while not shutting down; the
   *     command exits so that the pod restarts as a clean standby
   */
  public Controller(
      KubernetesClient client,
      String namespace,
      String identity,
      int httpPort,
      Duration nodeGrace,
      Runnable onLostLeadership) {
    this.client = client;
    this.namespace = namespace;
    this.identity = identity;
    this.httpPort = httpPort;
    this.onLostLeadership = onLostLeadership;
    this.nodeGrace = nodeGrace;
  }

  /** How tags are resolved: CA bundle, mirrors, insecure registries. Before {@link #start()}. */
  public Controller registries(RegistrySettings registries) {
    this.registries = registries;
    return this;
  }

  /** The Prometheus text of the controller's metrics (what /metrics serves). */
  public String scrapeMetrics() {
    return metrics.scrape();
  }

  public void start() throws IOException, InterruptedException {
    health = HealthServer.start(httpPort, () -> true, this::isReady, metrics::scrape);
    CustomResources.awaitEstablished(
        client,
        List.of(LayerSet.class, OverlayMount.class, NodeLayerState.class),
        Duration.ofSeconds(2));
    operator =
        new Operator(
            o ->
                o.withKubernetesClient(client)
                    .withMetrics(MicrometerMetrics.withoutPerResourceMetrics(metrics))
                    .withCloseClientOnStop(false)
                    .withLeaderElectionConfiguration(leaderElection()));
    Teardown teardown = new Teardown(namespace, nodeGrace, Clock.systemUTC());
    Duration timeout = Duration.ofSeconds(30);
    ImageResolver images =
        new ImageResolver(
            new RegistryClient(
                registries.httpClient(timeout),
                registries.hosts(),
                registries.destinations(),
                timeout),
            new PullSecrets(client, namespace));
    EventRecorder events =
        new EventRecorder(client, "strata-controller", identity, Clock.systemUTC());
    labels = new NodeLabels(client);
    operator.register(
        new LayerSetReconciler(
            Clock.systemUTC(),
            teardown,
            labels,
            images,
            events,
            new ObjectMetrics(metrics, "strata_layerset_nodes", "layerset")));
    operator.register(
        new OverlayMountReconciler(
            Clock.systemUTC(),
            teardown,
            labels,
            events,
            new ObjectMetrics(metrics, "strata_overlaymount_nodes", "overlaymount")));
    operator.start();
    log.info(
        "controller {} started; leading while it holds Lease {}/{}",
        identity,
        namespace,
        StrataApi.CONTROLLER_LEASE);
  }

  private LeaderElectionConfiguration leaderElection() {
    LeaderCallbacks callbacks =
        new LeaderCallbacks(
            () -> log.info("{} is now the leader", identity),
            () -> {
              if (!closing) {
                log.error("{} lost the leader Lease", identity);
                onLostLeadership.run();
              }
            },
            leader -> log.info("leader is {}", leader));
    return new LeaderElectionConfiguration(
        StrataApi.CONTROLLER_LEASE,
        namespace,
        LeaderElectionConfiguration.LEASE_DURATION_DEFAULT_VALUE,
        LeaderElectionConfiguration.RENEW_DEADLINE_DEFAULT_VALUE,
        LeaderElectionConfiguration.RETRY_PERIOD_DEFAULT_VALUE,
        identity,
        callbacks,
        false);
  }

  /** Ready once started and every informer is healthy; a standby is ready too. */
  public boolean isReady() {
    return operator != null
        && operator.getRuntimeInfo().isStarted()
        && operator.getRuntimeInfo().allEventSourcesAreHealthy();
  }

  @Override
  public void close() {
    closing = true;
    if (operator != null) {
      operator.stop();
    }
    if (labels != null) {
      labels.close();
    }
    if (health != null) {
      health.close();
    }
  }
}
