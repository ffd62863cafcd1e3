package io.strata.csi;

/**
 * One NodePublishVolume call, as Strata reads it.
 *
 * @param volumeMountGroup the pod's fsGroup, given to the upper's top directory; null for none
 */
public record VolumeRequest(
    String volumeId,
    String targetPath,
    boolean readOnly,
    VolumeAttributes attributes,
    Integer volumeMountGroup) {}
