package io.strata.csi;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.buffer.UnpooledByteBufAllocator;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CSI node plugin's two unix sockets: the Identity and Node services at {@link
 * CsiLayout#csiSocket()}, and kubelet's plugin registration at {@link
 * CsiLayout#registrationSocket()}, opened last so that kubelet finds the plugin only once it
 * answers. One event-loop thread serves both: kubelet's calls are few and small.
 */
public final class CsiServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CsiServer.class);

  private final CsiLayout layout;
  private final EventLoopGroup loop = new EpollEventLoopGroup(1);
  private final RegistrationService registration;
  private final Server csi;
  private final Server registrar;

  private CsiServer(
      CsiLayout layout, String nodeName, PodVolumes volumes, Consumer<String> publishRefused)
      throws IOException {
    this.layout = layout;
    this.registration = new RegistrationService(layout);
    this.csi =
        server(
            layout.csiSocket(),
            new IdentityService(),
            new NodeService(nodeName, volumes, publishRefused));
    this.registrar = server(layout.registrationSocket(), registration);
  }

  /** Serves the plugin for {@code nodeName} and registers it with kubelet. */
  public static CsiServer start(String nodeName, PodVolumes volumes) throws IOException {
    return start(nodeName, volumes, code -> {});
  }

  /**
   * As {@link #start(String, PodVolumes)}; {@code publishRefused} hears the CSI code of each
   * publish refused (the agent counts them).
   */
  public static CsiServer start(
      String nodeName, PodVolumes volumes, Consumer<String> publishRefused) throws IOException {
    CsiLayout layout = volumes.layout();
    CsiServer server = new CsiServer(layout, nodeName, volumes, publishRefused);
    try {
      server.csi.start();
      server.registrar.start();
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
    log.info(
        "CSI driver {} serving {}, registering through {}",
        CsiLayout.DRIVER,
        layout.csiSocket(),
        layout.registrationSocket());
    return server;
  }

  /** Whether kubelet has said it registered the driver. */
  public boolean registered() {
    return registration.registered();
  }

  private Server server(Path socket, BindableService... services) throws IOException {
    Files.createDirectories(
        socket.getParent(),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-x---")));
    Files.deleteIfExists(socket); // left by an agent that stopped without closing
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toFile()))
            .channelType(EpollServerDomainSocketChannel.class)
            .bossEventLoopGroup(loop)
            .workerEventLoopGroup(loop)
            // Calls are a few hundred bytes: no pooled arenas in the agent's small heap.
            .withChildOption(ChannelOption.ALLOCATOR, UnpooledByteBufAllocator.DEFAULT);
    for (BindableService service : services) {
      builder.addService(service);
    }
    return builder.build();
  }

  /** Stops serving: registration first, so kubelet sees the plugin go before it stops answering. */
  @Override
  public void close() {
    for (Server server : new Server[] {registrar, csi}) {
      server.shutdown();
      try {
        if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
          server.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        server.shutdownNow();
      }
    }
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    for (Path socket : new Path[] {layout.registrationSocket(), layout.csiSocket()}) {
      try {
        Files.deleteIfExists(socket);
      } catch (IOException e) {
        log.warn("could not remove {}: {}", socket, e.getMessage());
      }
    }
  }
}
