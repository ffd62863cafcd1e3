package io.strata.registry;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.strata.crd.NameReference;
import io.strata.fetch.FetchException;
import io.strata.fetch.FetchException.Reason;
import java.util.Base64;

/**
 * Reads a LayerSet's {@code pullSecretRef}: a {@code kubernetes.io/dockerconfigjson} Secret in
 * Strata's own namespace, fetched by name when needed (never listed or watched, so RBAC can grant
 * {@code get} on named Secrets alone).
 */
public final class PullSecrets {
  static final String TYPE = "kubernetes.io/dockerconfigjson";
  static final String KEY = ".dockerconfigjson";

  private final KubernetesClient client;
  private final String namespace;

  public PullSecrets(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  /** The logins in {@code ref}, or none when the LayerSet names no Secret. */
  public Credentials credentials(NameReference ref) throws FetchException {
    if (ref == null || ref.name == null) {
      return Credentials.NONE;
    }
    String where = "pull secret " + namespace + "/" + ref.name;
    Secret secret;
    try {
      secret = client.secrets().inNamespace(namespace).withName(ref.name).get();
    } catch (KubernetesClientException e) {
      throw new FetchException(
          Reason.InvalidPullSecret, "reading " + where + " failed: HTTP " + e.getCode(), e);
    }
    if (secret == null) {
      throw new FetchException(
          Reason.InvalidPullSecret,
          where + " does not exist (pull secrets live in Strata's own namespace)");
    }
    if (!TYPE.equals(secret.getType())) {
      throw new FetchException(
          Reason.InvalidPullSecret, where + " has type " + secret.getType() + ", not " + TYPE);
    }
    String data = secret.getData() == null ? null : secret.getData().get(KEY);
    if (data == null) {
      throw new FetchException(Reason.InvalidPullSecret, where + " has no " + KEY + " key");
    }
    try {
      return Credentials.fromDockerConfigJson(Base64.getDecoder().decode(data));
    } catch (IllegalArgumentException e) {
      throw new FetchException(Reason.InvalidPullSecret, where + ": " + e.getMessage());
    }
  }
}
