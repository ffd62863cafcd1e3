package io.strata.csi;

import io.grpc.stub.StreamObserver;
import io.strata.csi.registration.InfoRequest;
import io.strata.csi.registration.PluginInfo;
import io.strata.csi.registration.RegistrationGrpc;
import io.strata.csi.registration.RegistrationStatus;
import io.strata.csi.registration.RegistrationStatusResponse;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * kubelet's plugin registration, which the node-driver-registrar sidecar serves for other drivers:
 * kubelet finds the socket in its plugins_registry directory, asks what the plugin is and where its
 * CSI socket lies, and says whether it registered it.
 */
final class RegistrationService extends RegistrationGrpc.RegistrationImplBase {
  private static final Logger log = LoggerFactory.getLogger(RegistrationService.class);

  /** The CSI versions kubelet may speak to the plugin; kubelet takes any 1.x. */
  static final String CSI_VERSION = "1.0.0";

  private final CsiLayout layout;
  private final AtomicReference<RegistrationStatus> status = new AtomicReference<>();

  RegistrationService(CsiLayout layout) {
    this.layout = layout;
  }

  @Override
  public void getInfo(InfoRequest request, StreamObserver<PluginInfo> response) {
    response.onNext(
        PluginInfo.newBuilder()
            .setType("CSIPlugin")
            .setName(CsiLayout.DRIVER)
            .setEndpoint(layout.csiSocket().toString())
            .addSupportedVersions(CSI_VERSION)
            .build());
    response.onCompleted();
  }

  @Override
  public void notifyRegistrationStatus(
      RegistrationStatus request, StreamObserver<RegistrationStatusResponse> response) {
    status.set(request);
    if (request.getPluginRegistered()) {
      log.info("kubelet registered CSI driver {}", CsiLayout.DRIVER);
    } else {
      log.warn("kubelet did not register CSI driver {}: {}", CsiLayout.DRIVER, request.getError());
    }
    response.onNext(RegistrationStatusResponse.getDefaultInstance());
    response.onCompleted();
  }

  /** Whether kubelet said it registered the driver (last word wins). */
  boolean registered() {
    RegistrationStatus last = status.get();
    return last != null && last.getPluginRegistered();
  }
}
