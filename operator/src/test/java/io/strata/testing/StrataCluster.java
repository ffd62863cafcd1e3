package io.strata.testing;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;

/**
 * A one-node cluster with a real kubelet that {@link NodeScenario} installs Strata into: the node
 * of this machine ({@link RealNode}) or K3s where Docker runs.
 */
public interface StrataCluster {
  KubernetesClient client();

  /** A cluster-admin kubeconfig, for kubectl and helm. */
  Path kubeconfig();

  /** The one node's name. */
  String nodeName();

  /** The API server's port on the node's loopback, where host-network pods reach it. */
  int apiServerPort();

  /** A shared mount on the node for the agent's mounts ({@code agent.mountBase}). */
  Path mountBase();

  /** kubelet's root directory on the node ({@code csi.kubeletDir}). */
  Path kubeletDir();

  /** Runs a command on the node's host (not in a pod), failing with its output if it fails. */
  String onHost(String... command) throws Exception;

  /** Imports docker-archive images into the node's containerd; pods never pull. */
  void importImages(Path... tars) throws Exception;
}
