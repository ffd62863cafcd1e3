package io.strata.csi;

import com.google.protobuf.BoolValue;
import io.grpc.stub.StreamObserver;
import io.strata.Version;
import io.strata.csi.spec.GetPluginCapabilitiesRequest;
import io.strata.csi.spec.GetPluginCapabilitiesResponse;
import io.strata.csi.spec.GetPluginInfoRequest;
import io.strata.csi.spec.GetPluginInfoResponse;
import io.strata.csi.spec.IdentityGrpc;
import io.strata.csi.spec.ProbeRequest;
import io.strata.csi.spec.ProbeResponse;

/**
 * CSI Identity: the driver's name and version, and no plugin capabilities: without a Controller
 * service, Strata serves ephemeral inline volumes only.
 */
final class IdentityService extends IdentityGrpc.IdentityImplBase {
  @Override
  public void getPluginInfo(
      GetPluginInfoRequest request, StreamObserver<GetPluginInfoResponse> response) {
    response.onNext(
        GetPluginInfoResponse.newBuilder()
            .setName(CsiLayout.DRIVER)
            .setVendorVersion(Version.get())
            .build());
    response.onCompleted();
  }

  @Override
  public void getPluginCapabilities(
      GetPluginCapabilitiesRequest request,
      StreamObserver<GetPluginCapabilitiesResponse> response) {
    response.onNext(GetPluginCapabilitiesResponse.getDefaultInstance());
    response.onCompleted();
  }

  @Override
  public void probe(ProbeRequest request, StreamObserver<ProbeResponse> response) {
    response.onNext(ProbeResponse.newBuilder().setReady(BoolValue.of(true)).build());
    response.onCompleted();
  }
}
