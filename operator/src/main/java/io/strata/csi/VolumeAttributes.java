package io.strata.csi;

import io.strata.crd.ByteQuantity;
import io.strata.csi.VolumeRefusedException.Code;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * A pod volume's {@code volumeAttributes}, checked: the LayerSet, the upper's medium and size, and
 * the pod's namespace and name, which kubelet adds under {@code csi.storage.k8s.io/} because the
 * CSIDriver asks for pod info on mount.
 *
 * @param sizeLimit the size of the upper's file system in bytes
 */
public record VolumeAttributes(
    String layerSet, Medium medium, long sizeLimit, String podNamespace, String podName) {

  /** Where a volume's upper lives. */
  public enum Medium {
    /** Under the agent's state dir, on the node's disk. */
    Disk,
    /** A tmpfs of {@code sizeLimit}. */
    Memory
  }

  /**
   * What a node allows: the size of a Disk volume that names none, and the largest any may name.
   */
  public record Sizes(long defaultDiskBytes, long maxBytes) {
    public Sizes {
      if (defaultDiskBytes <= 0 || maxBytes <= 0 || defaultDiskBytes > maxBytes) {
        throw new IllegalArgumentException(
            "the default Disk volume size "
                + defaultDiskBytes
                + " must be positive and at most the largest, "
                + maxBytes);
      }
    }
  }

  public static final String LAYER_SET = "layerSet";
  public static final String MEDIUM = "medium";
  public static final String SIZE_LIMIT = "sizeLimit";

  /** Keys kubelet adds (pod name, namespace, uid, service account, ephemeral). */
  public static final String POD_INFO_PREFIX = "csi.storage.k8s.io/";

  public static final String POD_NAMESPACE = POD_INFO_PREFIX + "pod.namespace";
  public static final String POD_NAME = POD_INFO_PREFIX + "pod.name";

  private static final Set<String> KNOWN = Set.of(LAYER_SET, MEDIUM, SIZE_LIMIT);
  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final int MAX_SHOWN = 64;

  /**
   * Checks {@code context} (the CSI volume context) and refuses, naming the key, anything unknown
   * or malformed, and a size over {@code sizes}' largest.
   */
  public static VolumeAttributes parse(Map<String, String> context, Sizes sizes)
      throws VolumeRefusedException {
    Set<String> unknown = new TreeSet<>();
    for (String key : context.keySet()) {
      if (!KNOWN.contains(key) && !key.startsWith(POD_INFO_PREFIX)) {
        unknown.add(shown(key));
      }
    }
    if (!unknown.isEmpty()) {
      throw invalid(
          "unknown volume attribute(s) "
              + unknown
              + ": Strata's volumes take layerSet, medium and sizeLimit");
    }
    String layerSet = context.get(LAYER_SET);
    if (layerSet == null || layerSet.isEmpty()) {
      throw invalid("volume attribute layerSet is missing: name the LayerSet to mount");
    }
    if (layerSet.length() > 253 || !DNS_SUBDOMAIN.matcher(layerSet).matches()) {
      throw invalid("volume attribute layerSet \"" + shown(layerSet) + "\" is not a LayerSet name");
    }
    Medium medium = medium(context.get(MEDIUM));
    String size = context.get(SIZE_LIMIT);
    if (size == null && medium == Medium.Memory) {
      throw invalid("volume attribute sizeLimit is missing: a Memory volume needs one");
    }
    long sizeLimit = size == null ? sizes.defaultDiskBytes() : bytes(size);
    if (sizeLimit > sizes.maxBytes()) {
      throw new VolumeRefusedException(
          Code.RESOURCE_EXHAUSTED,
          "volume attribute sizeLimit "
              + size
              + " is over this node's maximum of "
              + sizes.maxBytes()
              + " bytes");
    }
    String namespace = context.get(POD_NAMESPACE);
    if (namespace == null || !DNS_LABEL.matcher(namespace).matches() || namespace.length() > 63) {
      throw invalid(
          POD_NAMESPACE
              + " is "
              + (namespace == null ? "missing" : "\"" + shown(namespace) + "\"")
              + ": the CSIDriver csi.strata.io must have podInfoOnMount: true");
    }
    return new VolumeAttributes(
        layerSet, medium, sizeLimit, namespace, context.getOrDefault(POD_NAME, ""));
  }

  private static Medium medium(String value) throws VolumeRefusedException {
    if (value == null) {
      return Medium.Disk;
    }
    for (Medium medium : Medium.values()) {
      if (medium.name().equals(value)) {
        return medium;
      }
    }
    throw invalid("volume attribute medium is \"" + shown(value) + "\": it must be Disk or Memory");
  }

  private static long bytes(String value) throws VolumeRefusedException {
    try {
      return ByteQuantity.parse("volume attribute " + SIZE_LIMIT, value);
    } catch (IllegalArgumentException e) {
      throw invalid(e.getMessage());
    }
  }

  private static VolumeRefusedException invalid(String message) {
    return new VolumeRefusedException(Code.INVALID_ARGUMENT, message);
  }

  /** A value short and printable enough to quote back in an error. */
  private static String shown(String value) {
    String printable = value.replaceAll("\\p{Cntrl}", "?");
    return printable.length() > MAX_SHOWN ? printable.substring(0, MAX_SHOWN) + "..." : printable;
  }
}
