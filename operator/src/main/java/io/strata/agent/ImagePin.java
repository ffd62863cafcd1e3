package io.strata.agent;

import io.fabric8.kubernetes.api.model.Condition;
import io.strata.crd.LayerSet;
import io.strata.crd.StrataApi;
import io.strata.fetch.FetchException.Reason;
import io.strata.registry.ImageReference;
import java.util.Objects;

/**
 * Which image digest a node may fetch for a LayerSet's {@code spec.image}: the digest the image
 * names, or else the controller's {@code status.resolvedImage} for the current generation, so that
 * every node holds the same thing even when the tag moves. Until the controller has resolved the
 * tag the node waits; when the controller could not, the node says why.
 */
sealed interface ImagePin {
  record Pinned(ImageReference image) implements ImagePin {}

  record Waiting(String message) implements ImagePin {}

  record Refused(String reason, String message) implements ImagePin {}

  static ImagePin of(LayerSet layerSet) {
    ImageReference wanted;
    try {
      wanted = ImageReference.parse(layerSet.getSpec().image);
    } catch (IllegalArgumentException e) {
      return new Refused(Reason.InvalidImage.name(), e.getMessage());
    }
    if (wanted.digest() != null) {
      return new Pinned(wanted.pinned(wanted.digest()));
    }
    LayerSet.Status status = layerSet.getStatus();
    Long generation = layerSet.getMetadata().getGeneration();
    if (status == null || !Objects.equals(status.observedGeneration, generation)) {
      return new Waiting("waiting for the controller to resolve " + wanted + " to a digest");
    }
    if (status.resolvedImage != null) {
      ImageReference resolved;
      try {
        resolved = ImageReference.parse(status.resolvedImage);
      } catch (IllegalArgumentException e) {
        return new Refused(Reason.InvalidImage.name(), "status.resolvedImage: " + e.getMessage());
      }
      if (resolved.digest() == null
          || !resolved.registry().equals(wanted.registry())
          || !resolved.repository().equals(wanted.repository())) {
        return new Refused(
            Reason.InvalidImage.name(),
            "status.resolvedImage " + resolved + " is not a digest of " + wanted);
      }
      return new Pinned(resolved);
    }
    for (Condition c : status.conditions) {
      if (StrataApi.RESOLVED_CONDITION.equals(c.getType())
          && "False".equals(c.getStatus())
          && Objects.equals(c.getObservedGeneration(), generation)) {
        return new Refused(
            c.getReason(), "the controller could not resolve " + wanted + ": " + c.getMessage());
      }
    }
    return new Waiting("waiting for the controller to resolve " + wanted + " to a digest");
  }
}
