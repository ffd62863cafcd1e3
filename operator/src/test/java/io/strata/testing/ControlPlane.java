package io.strata.testing;

import io.fabric8.kubeapitest.KubeAPIServerConfig;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubeapitest.binary.BinaryManager;
import io.fabric8.kubeapitest.cert.CertManager;
import io.fabric8.kubeapitest.kubeconfig.KubeConfig;
import io.fabric8.kubeapitest.process.EtcdProcess;
import io.fabric8.kubeapitest.process.KubeAPIServerProcess;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.strata.crd.StrataApi;
import io.strata.kube.CustomResources;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One real kube-apiserver and etcd for the whole test JVM, started with Fabric8 kube-api-test's
 * parts (its binaries, certificates, processes and kubeconfig) from the binaries {@code
 * hack/build-control-plane.sh} builds, with RBAC on and {@code crds/} installed. Tests share it and
 * keep apart by unique names.
 *
 * <p>It waits for the server itself rather than through {@code KubeAPIServer.start()}:
 * kube-api-test 7.5 measures its start-up timeout on {@code LocalTime}, which wraps at midnight, so
 * a start within the timeout of midnight failed at once with "Kube API Server did not start
 * properly". Waiting on the monotonic clock has no such edge.
 *
 * <p>Without the binaries the tests that need it fail under CI and {@code hack/test.sh}, and are
 * skipped elsewhere with the reason ({@link Tools#require}).
 */
public final class ControlPlane {
  public static final String KUBE_VERSION = "1.36.3";

  private static final Duration STARTUP_TIMEOUT = Duration.ofMinutes(3);

  private static ControlPlane shared;

  private final EtcdProcess etcd;
  private final KubeAPIServerProcess apiServer;
  private final String kubeconfig;

  private ControlPlane(EtcdProcess etcd, KubeAPIServerProcess apiServer, String kubeconfig) {
    this.etcd = etcd;
    this.apiServer = apiServer;
    this.kubeconfig = kubeconfig;
  }

  /** The shared control plane, started on first use. */
  public static synchronized ControlPlane shared() {
    if (shared == null) {
      requireBinaries();
      ControlPlane started = start();
      Runtime.getRuntime().addShutdownHook(new Thread(started::stop));
      started.awaitReady();
      started.installCrds();
      shared = started;
    }
    return shared;
  }

  private static ControlPlane start() {
    KubeAPIServerConfig config =
        KubeAPIServerConfigBuilder.anAPIServerConfig()
            .withApiServerVersion(KUBE_VERSION)
            .withOfflineMode(true)
            .withUpdateKubeConfig(false)
            .withApiServerFlag("--advertise-address", "127.0.0.1")
            .withApiServerFlag("--bind-address", "127.0.0.1")
            .build();
    BinaryManager binaries = new BinaryManager(config);
    binaries.initAndDownloadIfRequired();
    CertManager certs = new CertManager(config.getKubeAPITestDir());
    certs.createCertificatesIfNeeded();
    EtcdProcess etcd =
        new EtcdProcess(
            binaries,
            process -> System.err.println("etcd of the test control plane stopped"),
            false,
            (int) STARTUP_TIMEOUT.toMillis());
    KubeAPIServerProcess apiServer =
        new KubeAPIServerProcess(
            certs,
            binaries,
            process -> System.err.println("kube-apiserver of the test control plane stopped"),
            config);
    int port = apiServer.startApiServer(etcd.startEtcd());
    return new ControlPlane(
        etcd, apiServer, new KubeConfig(certs, binaries).generateKubeConfigYaml(port));
  }

  /** Ready when the server answers for the default namespace, which its bootstrap creates. */
  private void awaitReady() {
    try (KubernetesClient client = adminClient()) {
      Eventually.within(
          STARTUP_TIMEOUT,
          () -> {
            if (client.namespaces().withName("default").get() == null) {
              throw new AssertionError("no default namespace yet");
            }
          });
    } catch (AssertionError e) {
      stop();
      throw e;
    }
  }

  private void stop() {
    apiServer.stopApiServer();
    etcd.stopEtcd();
    etcd.cleanEtcdData();
  }

  private static void requireBinaries() {
    Path dir = binaryDir();
    boolean present =
        Stream.of("kube-apiserver", "etcd", "kubectl")
            .allMatch(b -> Files.isExecutable(dir.resolve(b)));
    Tools.require(present, "the control plane in " + dir + " (hack/build-control-plane.sh)");
  }

  /** helm, built by the same script into {@code ${KUBE_API_TEST_DIR:-~/.kubeapitest}/bin}. */
  public static Path helm() {
    String base = System.getenv("KUBE_API_TEST_DIR");
    Path root =
        base != null ? Path.of(base) : Path.of(System.getProperty("user.home"), ".kubeapitest");
    Path helm = root.resolve("bin/helm");
    Tools.require(Files.isExecutable(helm), "helm at " + helm + " (hack/build-control-plane.sh)");
    return helm;
  }

  /** kubectl of the control plane's version. */
  public static Path kubectl() {
    return binaryDir().resolve("kubectl");
  }

  public static Path binaryDir() {
    String base = System.getenv("KUBE_API_TEST_DIR");
    Path root =
        base != null ? Path.of(base) : Path.of(System.getProperty("user.home"), ".kubeapitest");
    return root.resolve("k8s").resolve(KUBE_VERSION + "-linux-amd64");
  }

  /** A client with cluster-admin rights (kube-api-test's client is in system:masters). */
  public KubernetesClient adminClient() {
    return new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(kubeconfig)).build();
  }

  public String kubeconfigYaml() {
    return kubeconfig;
  }

  /** Writes the kubeconfig to a file, for tools such as kubectl. */
  public Path writeKubeconfig(Path file) {
    try {
      return Files.writeString(file, kubeconfig);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void installCrds() {
    try (KubernetesClient client = adminClient();
        Stream<Path> files = Files.list(ProjectFiles.crds())) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        List<HasMetadata> items = client.load(Files.newInputStream(file)).items();
        for (HasMetadata item : items) {
          client.resource(item).serverSideApply();
          client
              .apiextensions()
              .v1()
              .customResourceDefinitions()
              .withName(item.getMetadata().getName())
              .waitUntilCondition(CustomResources::isEstablished, 60, TimeUnit.SECONDS);
        }
      }
      client
          .namespaces()
          .resource(
              new NamespaceBuilder()
                  .withNewMetadata()
                  .withName(StrataApi.DEFAULT_NAMESPACE)
                  .endMetadata()
                  .build())
          .serverSideApply();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
