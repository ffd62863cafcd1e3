package io.strata.testing;

import java.nio.file.Path;

/**
 * {@code hack/run.sh}'s control plane: the same kube-apiserver and etcd the tests use, with the
 * CRDs installed, kept running until this process is stopped. Writes the kubeconfig to the path
 * given as the only argument.
 */
public final class LocalControlPlane {
  private LocalControlPlane() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length != 1) {
      System.err.println("usage: LocalControlPlane KUBECONFIG_PATH");
      System.exit(2);
    }
    Path kubeconfig = ControlPlane.shared().writeKubeconfig(Path.of(args[0]));
    System.out.println("control plane ready; kubeconfig at " + kubeconfig.toAbsolutePath());
    Thread.currentThread().join();
  }
}
