package io.strata.kube;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

/**
 * Server-side apply, the one way Strata writes objects it owns: each process sends the fields it
 * manages, whole, under its own field manager, and the API server merges. No read-modify-write, no
 * 409 retries.
 */
public final class Apply {
  private Apply() {}

  public static <T extends HasMetadata> T object(
      KubernetesClient client, String manager, T desired) {
    return client.resource(desired).fieldManager(manager).forceConflicts().serverSideApply();
  }

  /** Applies {@code desired}'s status through the status subresource. */
  public static <T extends HasMetadata> T status(
      KubernetesClient client, String manager, T desired) {
    PatchContext apply =
        new PatchContext.Builder()
            .withPatchType(PatchType.SERVER_SIDE_APPLY)
            .withFieldManager(manager)
            .withForce(true)
            .build();
    return client.resource(desired).subresource("status").patch(apply, desired);
  }
}
