package io.strata.controller;

import io.strata.crd.LayerSet;
import io.strata.registry.ImageReference;
import io.strata.registry.PullSecrets;
import io.strata.registry.RegistryClient;
import io.strata.tarapply.LayerException;
import io.strata.tarapply.LayerException.Reason;

/** Pins a LayerSet's {@code spec.image} to the digest its tag names now. */
class ImageResolver {
  private final RegistryClient registry;
  private final PullSecrets pullSecrets;

  ImageResolver(RegistryClient registry, PullSecrets pullSecrets) {
    this.registry = registry;
    this.pullSecrets = pullSecrets;
  }

  ImageReference resolve(LayerSet.Spec spec) throws LayerException, InterruptedException {
    ImageReference image;
    try {
      image = ImageReference.parse(spec.image);
    } catch (IllegalArgumentException e) {
      throw new LayerException(Reason.InvalidImage, e.getMessage());
    }
    if (image.digest() != null) {
      return image.pinned(image.digest()); // nothing to ask
    }
    return registry.resolve(image, pullSecrets.credentials(spec.pullSecretRef));
  }
}
