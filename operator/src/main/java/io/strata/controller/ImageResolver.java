package io.strata.controller;

import io.strata.crd.LayerSet;
import io.strata.fetch.FetchException;
import io.strata.fetch.FetchException.Reason;
import io.strata.registry.ImageReference;
import io.strata.registry.PullSecrets;
import io.strata.registry.RegistryClient;

/** Pins a LayerSet's {@code spec.image} to the digest its tag names now. */
class ImageResolver {
  private final RegistryClient registry;
  private final PullSecrets pullSecrets;

  ImageResolver(RegistryClient registry, PullSecrets pullSecrets) {
    this.registry = registry;
    this.pullSecrets = pullSecrets;
  }

  ImageReference resolve(LayerSet.Spec spec) throws FetchException, InterruptedException {
    ImageReference image;
    try {
      image = ImageReference.parse(spec.image);
    } catch (IllegalArgumentException e) {
      throw new FetchException(Reason.InvalidImage, e.getMessage());
    }
    if (image.digest() != null) {
      return image.pinned(image.digest()); // nothing to ask
    }
    return registry.resolve(image, pullSecrets.credentials(spec.pullSecretRef));
  }
}
