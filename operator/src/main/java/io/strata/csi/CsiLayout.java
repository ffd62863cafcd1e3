package io.strata.csi;

import java.nio.file.Path;

/**
 * Where the CSI plugin meets kubelet, beneath kubelet's directory ({@code --kubelet-dir}, default
 * {@code /var/lib/kubelet}; k0s, microk8s and others move it). The agent must see that directory at
 * the same path as kubelet does: kubelet passes host paths.
 *
 * <pre>
 * &lt;kubelet dir&gt;/
 *   plugins/csi.strata.io/csi.sock              the CSI Identity and Node services
 *   plugins_registry/csi.strata.io-reg.sock     kubelet's plugin registration, served by the agent
 *   pods/&lt;pod uid&gt;/volumes/kubernetes.io~csi/&lt;volume&gt;/mount   targets: a volume's overlay
 * </pre>
 */
public record CsiLayout(Path kubeletDir) {
  public static final String DRIVER = "csi.strata.io";
  public static final Path DEFAULT_KUBELET_DIR = Path.of("/var/lib/kubelet");

  public CsiLayout {
    kubeletDir = kubeletDir.toAbsolutePath().normalize();
  }

  public Path pluginDir() {
    return kubeletDir.resolve("plugins").resolve(DRIVER);
  }

  public Path csiSocket() {
    return pluginDir().resolve("csi.sock");
  }

  public Path registrationDir() {
    return kubeletDir.resolve("plugins_registry");
  }

  public Path registrationSocket() {
    return registrationDir().resolve(DRIVER + "-reg.sock");
  }

  /** Every volume target lies strictly beneath this. */
  public Path podsDir() {
    return kubeletDir.resolve("pods");
  }
}
