package io.strata.csi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.strata.csi.VolumeRefusedException.Code;
import io.strata.csi.registration.InfoRequest;
import io.strata.csi.registration.PluginInfo;
import io.strata.csi.registration.RegistrationGrpc;
import io.strata.csi.spec.GetPluginInfoRequest;
import io.strata.csi.spec.IdentityGrpc;
import io.strata.csi.spec.NodeGetCapabilitiesRequest;
import io.strata.csi.spec.NodeGetVolumeStatsRequest;
import io.strata.csi.spec.NodeGrpc;
import io.strata.csi.spec.NodePublishVolumeRequest;
import io.strata.csi.spec.NodeServiceCapability;
import io.strata.csi.spec.NodeUnpublishVolumeRequest;
import io.strata.csi.spec.VolumeCapability;
import io.strata.csi.spec.VolumeUsage;
import io.strata.layout.NodeLayout;
import io.strata.overlay.MountTable;
import io.strata.overlay.Overlays;
import io.strata.sys.Syscalls;
import io.strata.testing.RootMounts;
import io.strata.testing.Tools;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CSI plugin as kubelet uses it: gRPC over its unix sockets, real overlay mounts (as root) in a
 * scratch kubelet directory, over a LayerSet root the test makes.
 */
class CsiServerTest {
  private static final VolumeAttributes.Sizes SIZES =
      new VolumeAttributes.Sizes(16L << 20, 64L << 20);

  @TempDir Path tmp;

  private RootMounts node;
  private CsiLayout csi;
  private Path root;
  private CsiServer server;
  private NodeLayout layout;
  private PodVolumes volumes;
  private EventLoopGroup clientLoop;
  private ManagedChannel channel;
  private NodeGrpc.NodeBlockingStub nodeService;
  private VolumeRefusedException refusal;

  @BeforeEach
  void start() throws Exception {
    node = RootMounts.prepare(tmp);
    csi = new CsiLayout(node.root.resolve("kubelet"));
    Files.createDirectories(csi.podsDir());
    root = node.stateDir.resolve("layers/ab12/root");
    Files.createDirectories(root.resolve("etc"));
    Files.writeString(root.resolve("etc/os-release"), "ID=strata\n");
    layout = new NodeLayout(node.stateDir, node.mountBase);
    LayerSetRoots roots =
        (name, namespace) -> {
          if (refusal != null) {
            throw refusal;
          }
          assertThat(name).isEqualTo("tools");
          return root;
        };
    volumes =
        new PodVolumes(
            layout,
            csi,
            new Overlays(layout, Syscalls.get()),
            Syscalls.get(),
            roots,
            SIZES,
            () -> {});
    server = CsiServer.start("n1", volumes);
    clientLoop = new EpollEventLoopGroup(1);
    channel = channel(csi.csiSocket());
    nodeService = NodeGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws IOException {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (clientLoop != null) {
      clientLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.close();
    }
    if (node != null) {
      node.cleanUp();
    }
  }

  private ManagedChannel channel(Path socket) {
    return NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toFile()))
        .channelType(EpollDomainSocketChannel.class)
        .eventLoopGroup(clientLoop)
        .usePlaintext()
        .build();
  }

  @Test
  void kubeletFindsTheDriverThroughItsRegistrationSocket() {
    ManagedChannel registration = channel(csi.registrationSocket());
    try {
      PluginInfo info =
          RegistrationGrpc.newBlockingStub(registration)
              .withDeadlineAfter(30, TimeUnit.SECONDS)
              .getInfo(InfoRequest.getDefaultInstance());
      assertThat(info.getType()).isEqualTo("CSIPlugin");
      assertThat(info.getName()).isEqualTo("csi.strata.io");
      assertThat(info.getEndpoint()).isEqualTo(csi.csiSocket().toString());
      assertThat(info.getSupportedVersionsList()).containsExactly("1.0.0");
    } finally {
      registration.shutdownNow();
    }
    assertThat(
            IdentityGrpc.newBlockingStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .getPluginInfo(GetPluginInfoRequest.getDefaultInstance())
                .getName())
        .isEqualTo("csi.strata.io");
    assertThat(
            nodeService
                .nodeGetCapabilities(NodeGetCapabilitiesRequest.getDefaultInstance())
                .getCapabilitiesList())
        .extracting(c -> c.getRpc().getType())
        .containsExactlyInAnyOrder(
            NodeServiceCapability.RPC.Type.VOLUME_MOUNT_GROUP,
            NodeServiceCapability.RPC.Type.GET_VOLUME_STATS);
  }

  @Test
  void twoPodsOnOneLayerSetEachWriteIntoAnUpperOfTheirOwn() throws Exception {
    Path first = publish("csi-aaa", target("pod-1"), Map.of(), "");
    Path second = publish("csi-bbb", target("pod-2"), Map.of(), "");

    assertThat(Files.readString(first.resolve("etc/os-release"))).isEqualTo("ID=strata\n");
    Files.writeString(first.resolve("etc/os-release"), "ID=changed\n");
    Files.writeString(second.resolve("mine"), "second\n");

    assertThat(Files.readString(second.resolve("etc/os-release"))).isEqualTo("ID=strata\n");
    assertThat(first.resolve("mine")).doesNotExist();
    assertThat(Files.readString(root.resolve("etc/os-release"))).isEqualTo("ID=strata\n");
    assertThat(MountTable.read().at(first).orElseThrow().source()).isEqualTo("strata-csi:csi-aaa");
    assertThat(node.stateDir.resolve("volumes/csi-aaa/fs/upper/etc/os-release")).exists();

    unpublish("csi-aaa", first);
    assertThat(MountTable.read().at(first)).isEmpty();
    assertThat(first).doesNotExist();
    assertThat(node.stateDir.resolve("volumes/csi-aaa")).doesNotExist();
    assertThat(Files.readString(second.resolve("mine"))).isEqualTo("second\n");

    unpublish("csi-aaa", first); // kubelet retries: a second call succeeds and changes nothing
    unpublish("csi-bbb", second);
    assertThat(node.mountsBeneath()).allMatch(m -> m.mountPoint().equals(node.mountBase));
  }

  @Test
  void whatVolumesLeftWithoutAMountIsRemovedAndMountedOnesAreKept() throws Exception {
    Path target = publish("csi-live", target("pod-1"), Map.of(), "");
    Path orphan = node.stateDir.resolve("volumes/csi-gone");
    Files.createDirectories(orphan.resolve("fs/upper"));
    Files.writeString(orphan.resolve("fs/upper/written"), "by a pod of a node that went down");

    assertThat(volumes.removeOrphans()).containsExactly("csi-gone");

    assertThat(orphan).doesNotExist();
    assertThat(Files.readString(target.resolve("etc/os-release"))).isEqualTo("ID=strata\n");
    assertThat(PodVolumes.volumesPerLayerSet(layout, MountTable.read()))
        .containsExactly(Map.entry("tools", 1));
  }

  @Test
  void publishingTwiceMountsOnce() throws Exception {
    Path target = publish("csi-aaa", target("pod-1"), Map.of(), "");
    publish("csi-aaa", target("pod-1"), Map.of(), "");

    assertThat(MountTable.read().mounts())
        .filteredOn(m -> m.mountPoint().equals(target))
        .hasSize(1);
  }

  @Test
  void aMemoryVolumeIsCappedAtItsSizeLimit() throws Exception {
    Path target =
        publish("csi-mem", target("pod-1"), Map.of("medium", "Memory", "sizeLimit", "1Mi"), "");

    Files.write(target.resolve("small"), new byte[512 << 10]);
    assertThatThrownBy(() -> Files.write(target.resolve("big"), new byte[2 << 20]))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("No space left on device");
    assertThat(
            nodeService
                .nodeGetVolumeStats(
                    NodeGetVolumeStatsRequest.newBuilder()
                        .setVolumeId("csi-mem")
                        .setVolumePath(target.toString())
                        .build())
                .getUsageList())
        .filteredOn(u -> u.getUnit() == VolumeUsage.Unit.BYTES)
        .singleElement()
        .satisfies(u -> assertThat(u.getTotal()).isEqualTo(1 << 20));

    unpublish("csi-mem", target);
    assertThat(node.mountsBeneath()).allMatch(m -> m.mountPoint().equals(node.mountBase));
    assertThat(node.stateDir.resolve("volumes/csi-mem")).doesNotExist();
  }

  @Test
  void aDiskVolumeIsCappedByTheKernelAndLeavesTheNodesDiskAlone() throws Exception {
    Path target = publish("csi-disk", target("pod-1"), Map.of("sizeLimit", "8Mi"), "");

    assertThat(MountTable.read().at(node.stateDir.resolve("volumes/csi-disk/fs")).orElseThrow())
        .satisfies(m -> assertThat(m.fsType()).isEqualTo("ext4"))
        .satisfies(m -> assertThat(m.source()).startsWith("/dev/loop"));
    Files.write(target.resolve("small"), new byte[1 << 20]);
    assertThatThrownBy(() -> Files.write(target.resolve("big"), new byte[16 << 20]))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("No space left on device");
    Path image = node.stateDir.resolve("volumes/csi-disk/disk.img");
    assertThat(Files.size(image)).isEqualTo(8L << 20);

    unpublish("csi-disk", target);
    assertThat(node.mountsBeneath()).allMatch(m -> m.mountPoint().equals(node.mountBase));
    assertThat(node.stateDir.resolve("volumes/csi-disk")).doesNotExist();
    assertThat(Tools.run(tmp, "losetup", "--associated", image.toString())).isBlank();
  }

  @Test
  void aDiskVolumeWithoutASizeGetsTheNodesDefault() throws Exception {
    Path target = publish("csi-default", target("pod-1"), Map.of(), "");

    assertThat(Files.size(node.stateDir.resolve("volumes/csi-default/disk.img")))
        .isEqualTo(SIZES.defaultDiskBytes());
    unpublish("csi-default", target);
  }

  @Test
  void thePodsFsGroupOwnsTheVolumesTopDirectoryOnly() throws Exception {
    Path target = publish("csi-grp", target("pod-1"), Map.of(), "2000");

    assertThat(Files.getAttribute(target, "unix:gid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(2000);
    int mode = (Integer) Files.getAttribute(target, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    assertThat(mode & 02070).isEqualTo(02070);
    assertThat(Files.getAttribute(target.resolve("etc"), "unix:gid", LinkOption.NOFOLLOW_LINKS))
        .isEqualTo(0);
  }

  @Test
  void aReadOnlyVolumeRefusesWrites() throws Exception {
    Path target = target("pod-1");
    nodeService.nodePublishVolume(
        request("csi-ro", target, Map.of(), "").setReadonly(true).build());

    assertThat(Files.readString(target.resolve("etc/os-release"))).isEqualTo("ID=strata\n");
    assertThatThrownBy(() -> Files.writeString(target.resolve("x"), "x"))
        .isInstanceOf(FileSystemException.class)
        .hasMessageContaining("Read-only file system");
  }

  @Test
  void hostileRequestsAreRefusedAndMountNothing() throws Exception {
    Path outside = node.root.resolve("outside");
    Files.createDirectories(outside);
    Path pod = csi.podsDir().resolve("pod-evil/volumes/kubernetes.io~csi");
    Files.createDirectories(pod);
    Files.createSymbolicLink(pod.resolve("tools"), outside);

    assertRefused(
        request("csi-x", Path.of("/etc/cron.d"), Map.of(), ""),
        Status.Code.INVALID_ARGUMENT,
        "is not beneath kubelet's pods directory");
    assertRefused(
        request("csi-x", pod.resolve("tools/mount"), Map.of(), ""),
        Status.Code.INVALID_ARGUMENT,
        "symlink");
    assertRefused(
        request("csi-x", target("pod-1"), Map.of("hostPath", "/"), ""),
        Status.Code.INVALID_ARGUMENT,
        "unknown volume attribute(s) [hostPath]");
    assertRefused(
        request("csi-x", target("pod-1"), Map.of("medium", "Memory", "sizeLimit", "1Ti"), ""),
        Status.Code.RESOURCE_EXHAUSTED,
        "over this node's maximum");
    assertRefused(
        request("csi-x", target("pod-1"), Map.of("sizeLimit", "1Ti"), ""),
        Status.Code.RESOURCE_EXHAUSTED,
        "over this node's maximum");
    assertRefused(
        request("../../x", target("pod-1"), Map.of(), ""),
        Status.Code.INVALID_ARGUMENT,
        "volume id");
    refusal =
        new VolumeRefusedException(
            Code.PERMISSION_DENIED, "LayerSet tools may not be mounted in namespace team-a");
    assertRefused(
        request("csi-x", target("pod-1"), Map.of(), ""),
        Status.Code.PERMISSION_DENIED,
        "may not be mounted in namespace team-a");

    assertThat(outside).isEmptyDirectory();
    assertThat(node.mountsBeneath()).allMatch(m -> m.mountPoint().equals(node.mountBase));
    assertThat(node.stateDir.resolve("volumes/csi-x")).doesNotExist();
  }

  private void assertRefused(
      NodePublishVolumeRequest.Builder request, Status.Code code, String says) {
    assertThatThrownBy(() -> nodeService.nodePublishVolume(request.build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(code))
        .hasMessageContaining(says);
  }

  /** Where kubelet puts pod {@code pod}'s volume "tools" (it makes the parent, not the target). */
  private Path target(String pod) throws IOException {
    Path volume = csi.podsDir().resolve(pod).resolve("volumes/kubernetes.io~csi/tools");
    Files.createDirectories(volume);
    return volume.resolve("mount");
  }

  private Path publish(String id, Path target, Map<String, String> attributes, String group) {
    nodeService.nodePublishVolume(request(id, target, attributes, group).build());
    return target;
  }

  private void unpublish(String id, Path target) {
    nodeService.nodeUnpublishVolume(
        NodeUnpublishVolumeRequest.newBuilder()
            .setVolumeId(id)
            .setTargetPath(target.toString())
            .build());
  }

  /** A request as kubelet makes it for an inline volume of pod web-0 in team-a. */
  private static NodePublishVolumeRequest.Builder request(
      String id, Path target, Map<String, String> attributes, String group) {
    Map<String, String> context = new HashMap<>(attributes);
    context.putIfAbsent("layerSet", "tools");
    context.put("csi.storage.k8s.io/pod.name", "web-0");
    context.put("csi.storage.k8s.io/pod.namespace", "team-a");
    context.put("csi.storage.k8s.io/ephemeral", "true");
    return NodePublishVolumeRequest.newBuilder()
        .setVolumeId(id)
        .setTargetPath(target.toString())
        .setVolumeCapability(
            VolumeCapability.newBuilder()
                .setMount(VolumeCapability.MountVolume.newBuilder().setVolumeMountGroup(group))
                .setAccessMode(
                    VolumeCapability.AccessMode.newBuilder()
                        .setMode(VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER)))
        .putAllVolumeContext(context);
  }
}
