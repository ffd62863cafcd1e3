package io.strata.crd;

/** Names shared by every Strata resource and by the processes that act on them. */
public final class StrataApi {
  public static final String GROUP = "strata.io";
  public static final String VERSION = "v1alpha1";

  /** The one finalizer, owned by the controller. */
  public static final String TEARDOWN_FINALIZER = "strata.io/teardown";

  /**
   * LayerSet condition of a {@code spec.image} by tag: True once the controller pinned it to a
   * digest for this generation, False with the registry's reason when it could not.
   */
  public static final String RESOLVED_CONDITION = "Resolved";

  /** The condition a LayerSet whose deletion waits carries: {@code Deleting=False, InUse}. */
  public static final String DELETING_CONDITION = "Deleting";

  /** Node label prefixes the controller sets: {@code <prefix><name>=ready|mounted}. */
  public static final String LAYERSET_LABEL_PREFIX = "layerset.strata.io/";

  /** On each NodeLayerState: the node it describes (its agent watches it by this label). */
  public static final String NODE_LABEL = "strata.io/node";

  public static final String OVERLAYMOUNT_LABEL_PREFIX = "overlaymount.strata.io/";

  /** Prefix of each agent's Lease in Strata's namespace: {@code strata-agent-<node>}. */
  public static final String AGENT_LEASE_PREFIX = "strata-agent-";

  public static final String CONTROLLER_LEASE = "strata-controller";
  public static final String DEFAULT_NAMESPACE = "strata-system";

  /**
   * CEL for the names that become part of a Node label key: a DNS label, at most 63 characters.
   * Kubernetes itself only requires a DNS subdomain of 253 for custom resources.
   */
  static final String DNS_LABEL_NAME_RULE =
      "size(self.metadata.name) <= 63 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')";

  static final String DNS_LABEL_NAME_MESSAGE =
      "metadata.name must be a DNS label of at most 63 characters: it becomes part of a Node label";

  /** A DNS subdomain name, as Kubernetes names most objects. */
  static final String DNS_SUBDOMAIN =
      "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

  static final String DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

  static final String SHA256_DIGEST = "^sha256:[a-f0-9]{64}$";

  private StrataApi() {}
}
