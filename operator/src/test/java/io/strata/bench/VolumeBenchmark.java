package io.strata.bench;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.strata.csi.CsiLayout;
import io.strata.csi.CsiServer;
import io.strata.csi.PodVolumes;
import io.strata.csi.VolumeAttributes;
import io.strata.csi.spec.NodeGrpc;
import io.strata.csi.spec.NodePublishVolumeRequest;
import io.strata.csi.spec.NodeUnpublishVolumeRequest;
import io.strata.csi.spec.VolumeCapability;
import io.strata.layout.NodeLayout;
import io.strata.overlay.Overlays;
import io.strata.sys.Syscalls;
import io.strata.testing.RootMounts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * NodePublishVolume and NodeUnpublishVolume latency as kubelet sees it (gRPC over the plugin's
 * socket, a Ready LayerSet), for Memory and Disk volumes, against the same work done with the tools
 * an administrator would use: {@code mount -t tmpfs} or {@code truncate}, {@code mke2fs} and {@code
 * mount -o loop} for the upper, then {@code mount -t overlay}; and {@code umount} and {@code rm
 * -rf}. Interleaved in one run. A benchmark, not a test: {@code hack/bench-volumes.sh} runs it as
 * root.
 */
public final class VolumeBenchmark {
  private VolumeBenchmark() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    Path tmp = Files.createTempDirectory(Path.of("/var/tmp"), "strata-bench-");
    RootMounts node = RootMounts.prepare(tmp);
    CsiLayout csi = new CsiLayout(node.root.resolve("kubelet"));
    Path root = node.stateDir.resolve("layers/ab12/root");
    Files.createDirectories(root.resolve("etc"));
    Files.writeString(root.resolve("etc/os-release"), "ID=strata\n");
    NodeLayout layout = new NodeLayout(node.stateDir, node.mountBase);
    PodVolumes volumes =
        new PodVolumes(
            layout,
            csi,
            new Overlays(layout, Syscalls.get()),
            Syscalls.get(),
            (name, namespace) -> root,
            new VolumeAttributes.Sizes(1L << 30, 8L << 30),
            () -> {});
    EventLoopGroup loop = new EpollEventLoopGroup(1);
    try (CsiServer server = CsiServer.start("bench", volumes)) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress(new DomainSocketAddress(csi.csiSocket().toFile()))
              .channelType(EpollDomainSocketChannel.class)
              .eventLoopGroup(loop)
              .usePlaintext()
              .build();
      NodeGrpc.NodeBlockingStub stub = NodeGrpc.newBlockingStub(channel);
      Path pod = csi.podsDir().resolve("pod/volumes/kubernetes.io~csi/tools");
      Files.createDirectories(pod);
      Path target = pod.resolve("mount");
      Path scratch = Files.createDirectories(node.root.resolve("by-hand"));
      for (String medium : List.of("Memory", "Disk")) {
        Map<String, String> attributes =
            Map.of(
                "layerSet",
                "tools",
                "medium",
                medium,
                "sizeLimit",
                medium.equals("Memory") ? "64Mi" : "1Gi",
                "csi.storage.k8s.io/pod.namespace",
                "bench");
        List<Long> publish = new ArrayList<>();
        List<Long> unpublish = new ArrayList<>();
        List<Long> byHandUp = new ArrayList<>();
        List<Long> byHandDown = new ArrayList<>();
        for (int i = -20; i < rounds; i++) { // 20 rounds of warm-up
          String id = "csi-" + medium.toLowerCase() + "-" + (i + 20);
          long start = System.nanoTime();
          stub.withDeadlineAfter(60, TimeUnit.SECONDS)
              .nodePublishVolume(request(id, target, attributes));
          long published = System.nanoTime();
          stub.withDeadlineAfter(60, TimeUnit.SECONDS)
              .nodeUnpublishVolume(
                  NodeUnpublishVolumeRequest.newBuilder()
                      .setVolumeId(id)
                      .setTargetPath(target.toString())
                      .build());
          long unpublished = System.nanoTime();
          long[] byHand = byHand(scratch, root, medium);
          if (i >= 0) {
            publish.add(published - start);
            unpublish.add(unpublished - published);
            byHandUp.add(byHand[0]);
            byHandDown.add(byHand[1]);
          }
        }
        report(medium, rounds, publish, unpublish, byHandUp, byHandDown);
      }
      channel.shutdownNow();
    } finally {
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      node.cleanUp();
    }
  }

  private static NodePublishVolumeRequest request(
      String id, Path target, Map<String, String> attributes) {
    return NodePublishVolumeRequest.newBuilder()
        .setVolumeId(id)
        .setTargetPath(target.toString())
        .setVolumeCapability(
            VolumeCapability.newBuilder()
                .setMount(VolumeCapability.MountVolume.getDefaultInstance())
                .setAccessMode(
                    VolumeCapability.AccessMode.newBuilder()
                        .setMode(VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER)))
        .putAllVolumeContext(attributes)
        .build();
  }

  /** The same volume made and removed with util-linux and e2fsprogs: {up, down} in nanoseconds. */
  private static long[] byHand(Path scratch, Path lower, String medium) throws Exception {
    Path home = scratch.resolve("volume");
    Path fs = home.resolve("fs");
    Path target = scratch.resolve("target");
    long start = System.nanoTime();
    Files.createDirectories(fs);
    Files.createDirectories(target);
    if (medium.equals("Memory")) {
      run("mount", "-t", "tmpfs", "-o", "size=64m,mode=0700,nosuid,nodev", "tmpfs", fs.toString());
    } else {
      Path image = home.resolve("disk.img");
      run("truncate", "-s", "1G", image.toString());
      run(
          "mke2fs",
          "-q",
          "-F",
          "-t",
          "ext4",
          "-m",
          "0",
          "-E",
          "nodiscard,lazy_itable_init=1,lazy_journal_init=1",
          image.toString());
      run("mount", "-o", "loop,nosuid,nodev", image.toString(), fs.toString());
    }
    Files.createDirectories(fs.resolve("upper"));
    Files.createDirectories(fs.resolve("work"));
    run(
        "mount",
        "-t",
        "overlay",
        "overlay",
        "-o",
        "lowerdir="
            + lower
            + ",upperdir="
            + fs.resolve("upper")
            + ",workdir="
            + fs.resolve("work")
            + ",nosuid,nodev",
        target.toString());
    long up = System.nanoTime();
    run("umount", target.toString());
    run("umount", fs.toString());
    run("rm", "-rf", home.toString(), target.toString());
    return new long[] {up - start, System.nanoTime() - up};
  }

  private static void run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).inheritIO().start();
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", command) + " exited " + p.exitValue());
    }
  }

  private static void report(
      String medium,
      int rounds,
      List<Long> publish,
      List<Long> unpublish,
      List<Long> byHandUp,
      List<Long> byHandDown) {
    System.out.printf("%s volumes, %d interleaved rounds (ms)%n", medium, rounds);
    System.out.printf("%-44s %8s %8s%n", "", "p50", "p99");
    line("NodePublishVolume (gRPC, as kubelet calls it)", publish);
    line("  the same by hand (util-linux, e2fsprogs)", byHandUp);
    line("NodeUnpublishVolume", unpublish);
    line("  the same by hand (umount, umount, rm -rf)", byHandDown);
    System.out.printf(
        "ratio publish / by hand (p50): %.2f; unpublish / by hand (p50): %.2f%n%n",
        percentile(publish, 50) / percentile(byHandUp, 50),
        percentile(unpublish, 50) / percentile(byHandDown, 50));
  }

  private static void line(String what, List<Long> nanos) {
    System.out.printf("%-44s %8.2f %8.2f%n", what, percentile(nanos, 50), percentile(nanos, 99));
  }

  private static double percentile(List<Long> nanos, int p) {
    List<Long> sorted = new ArrayList<>(nanos);
    Collections.sort(sorted);
    return sorted.get(Math.min(sorted.size() - 1, sorted.size() * p / 100)) / 1e6;
  }
}
