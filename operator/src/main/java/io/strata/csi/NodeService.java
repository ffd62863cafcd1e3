package io.strata.csi;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.strata.csi.VolumeRefusedException.Code;
import io.strata.csi.spec.NodeGetCapabilitiesRequest;
import io.strata.csi.spec.NodeGetCapabilitiesResponse;
import io.strata.csi.spec.NodeGetInfoRequest;
import io.strata.csi.spec.NodeGetInfoResponse;
import io.strata.csi.spec.NodeGetVolumeStatsRequest;
import io.strata.csi.spec.NodeGetVolumeStatsResponse;
import io.strata.csi.spec.NodeGrpc;
import io.strata.csi.spec.NodePublishVolumeRequest;
import io.strata.csi.spec.NodePublishVolumeResponse;
import io.strata.csi.spec.NodeServiceCapability;
import io.strata.csi.spec.NodeUnpublishVolumeRequest;
import io.strata.csi.spec.NodeUnpublishVolumeResponse;
import io.strata.csi.spec.VolumeCapability;
import io.strata.csi.spec.VolumeUsage;
import io.strata.sys.FsStat;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CSI Node: publishes and unpublishes pod volumes through {@link PodVolumes} and answers with the
 * codes DESIGN.md section 6 names. No staging and no expansion: those calls are UNIMPLEMENTED.
 */
final class NodeService extends NodeGrpc.NodeImplBase {
  private static final Logger log = LoggerFactory.getLogger(NodeService.class);

  private final String nodeName;
  private final PodVolumes volumes;
  private final Consumer<String> publishRefused;

  NodeService(String nodeName, PodVolumes volumes, Consumer<String> publishRefused) {
    this.nodeName = nodeName;
    this.volumes = volumes;
    this.publishRefused = publishRefused;
  }

  @Override
  public void nodeGetInfo(
      NodeGetInfoRequest request, StreamObserver<NodeGetInfoResponse> response) {
    response.onNext(NodeGetInfoResponse.newBuilder().setNodeId(nodeName).build());
    response.onCompleted();
  }

  @Override
  public void nodeGetCapabilities(
      NodeGetCapabilitiesRequest request, StreamObserver<NodeGetCapabilitiesResponse> response) {
    response.onNext(
        NodeGetCapabilitiesResponse.newBuilder()
            .addCapabilities(capability(NodeServiceCapability.RPC.Type.VOLUME_MOUNT_GROUP))
            .addCapabilities(capability(NodeServiceCapability.RPC.Type.GET_VOLUME_STATS))
            .build());
    response.onCompleted();
  }

  @Override
  public void nodePublishVolume(
      NodePublishVolumeRequest request, StreamObserver<NodePublishVolumeResponse> response) {
    try {
      VolumeRequest volume = volumeRequest(request);
      volumes.publish(volume);
      log.info(
          "published volume {} of LayerSet {} for pod {}/{} at {}",
          volume.volumeId(),
          volume.attributes().layerSet(),
          volume.attributes().podNamespace(),
          volume.attributes().podName(),
          volume.targetPath());
      response.onNext(NodePublishVolumeResponse.getDefaultInstance());
      response.onCompleted();
    } catch (VolumeRefusedException e) {
      publishRefused.accept(e.code().name());
      refuse(response, "publish", request.getVolumeId(), e);
    }
  }

  @Override
  public void nodeUnpublishVolume(
      NodeUnpublishVolumeRequest request, StreamObserver<NodeUnpublishVolumeResponse> response) {
    try {
      volumes.unpublish(request.getVolumeId(), request.getTargetPath());
      log.info("unpublished volume {} from {}", request.getVolumeId(), request.getTargetPath());
      response.onNext(NodeUnpublishVolumeResponse.getDefaultInstance());
      response.onCompleted();
    } catch (VolumeRefusedException e) {
      refuse(response, "unpublish", request.getVolumeId(), e);
    }
  }

  @Override
  public void nodeGetVolumeStats(
      NodeGetVolumeStatsRequest request, StreamObserver<NodeGetVolumeStatsResponse> response) {
    try {
      FsStat stat = volumes.usage(request.getVolumeId(), request.getVolumePath());
      long total = stat.blocks() * stat.blockSize();
      long available = stat.availableBlocks() * stat.blockSize();
      long used = (stat.blocks() - stat.freeBlocks()) * stat.blockSize();
      response.onNext(
          NodeGetVolumeStatsResponse.newBuilder()
              .addUsage(usage(VolumeUsage.Unit.BYTES, total, available, used))
              .addUsage(
                  usage(
                      VolumeUsage.Unit.INODES,
                      stat.files(),
                      stat.freeFiles(),
                      stat.files() - stat.freeFiles()))
              .build());
      response.onCompleted();
    } catch (VolumeRefusedException e) {
      refuse(response, "stat", request.getVolumeId(), e);
    }
  }

  private VolumeRequest volumeRequest(NodePublishVolumeRequest request)
      throws VolumeRefusedException {
    VolumePlanner.volumeId(request.getVolumeId());
    if (!request.hasVolumeCapability()) {
      throw invalid("volume capability is missing");
    }
    VolumeCapability capability = request.getVolumeCapability();
    if (!capability.hasMount()) {
      throw invalid("volume capability must be a mount: Strata's volumes are file systems");
    }
    if (!capability.getMount().getMountFlagsList().isEmpty()) {
      throw invalid(
          "mount flags " + capability.getMount().getMountFlagsList() + " are not supported");
    }
    Integer group = null;
    String mountGroup = capability.getMount().getVolumeMountGroup();
    if (!mountGroup.isEmpty()) {
      try {
        group = Integer.parseInt(mountGroup);
      } catch (NumberFormatException e) {
        group = -1;
      }
      if (group < 0) {
        throw invalid("volume mount group \"" + mountGroup + "\" is not a numeric group id");
      }
    }
    VolumeAttributes attributes =
        VolumeAttributes.parse(request.getVolumeContextMap(), volumes.sizes());
    return new VolumeRequest(
        request.getVolumeId(), request.getTargetPath(), request.getReadonly(), attributes, group);
  }

  private static VolumeRefusedException invalid(String message) {
    return new VolumeRefusedException(Code.INVALID_ARGUMENT, message);
  }

  private static void refuse(
      StreamObserver<?> response, String call, String volumeId, VolumeRefusedException e) {
    if (e.code() == Code.INTERNAL) {
      log.warn("{} of volume {} failed: {}", call, volumeId, e.getMessage(), e);
    } else {
      log.info("{} of volume {} refused ({}): {}", call, volumeId, e.code(), e.getMessage());
    }
    response.onError(
        Status.fromCode(Status.Code.valueOf(e.code().name()))
            .withDescription(e.getMessage())
            .asRuntimeException());
  }

  private static NodeServiceCapability capability(NodeServiceCapability.RPC.Type type) {
    return NodeServiceCapability.newBuilder()
        .setRpc(NodeServiceCapability.RPC.newBuilder().setType(type))
        .build();
  }

  private static VolumeUsage usage(VolumeUsage.Unit unit, long total, long available, long used) {
    return VolumeUsage.newBuilder()
        .setUnit(unit)
        .setTotal(total)
        .setAvailable(available)
        .setUsed(used)
        .build();
  }
}
