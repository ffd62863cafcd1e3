package io.strata.crd;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.Size;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;
import java.util.ArrayList;
import java.util.List;

/**
 * What one node holds and mounts, named after the node and written only by that node's agent. One
 * object per node keeps a single writer per object and keeps each object small at any cluster size.
 */
@Group(StrataApi.GROUP)
@Version(StrataApi.VERSION)
@Plural("nodelayerstates")
@ShortNames("nls")
@AdditionalPrinterColumn(
    name = "LayerSets",
    jsonPath = ".status.summary.layerSets",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Mounts",
    jsonPath = ".status.summary.overlayMounts",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.summary.ready",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class NodeLayerState extends CustomResource<Void, NodeLayerState.Status> {

  /**
   * At most this many LayerSets and this many OverlayMounts are served per node: keeps one node's
   * object far below etcd's object limit (a full entry is under 1 KiB). The bound never evicts what
   * a node serves; see the agent's Selection.
   */
  public static final int MAX_ENTRIES = 256;

  /**
   * Beyond the bound, this many more LayerSets are listed, each Failed with reason {@code
   * NodeLimit}, so that the controller reports them on the LayerSet; the rest are only logged.
   */
  public static final int MAX_REFUSED_ENTRIES = 32;

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Status {
    @JsonPropertyDescription(
        "One entry per LayerSet that selects this node: those it serves, then those past its"
            + " bound (Failed, NodeLimit).")
    @Size(max = MAX_ENTRIES + MAX_REFUSED_ENTRIES)
    public List<LayerSetEntry> layerSets = new ArrayList<>();

    @JsonPropertyDescription("One entry per OverlayMount on this node.")
    @Size(max = MAX_ENTRIES)
    public List<OverlayMountEntry> overlayMounts = new ArrayList<>();

    public Summary summary;
    public Cache cache;
    public Agent agent;
  }

  public enum LayerSetPhase {
    Pending,
    Fetching,
    Materializing,
    Ready,
    Failed
  }

  public enum MountPhase {
    Pending,
    Mounted,
    Unmounting,
    Failed
  }

  /** Fields every entry carries: where it stands and since when. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public abstract static class Entry {
    @Size(max = 253)
    public String name;

    public Long observedGeneration;

    @JsonPropertyDescription("CamelCase, set when Failed (DigestMismatch, PathEscape, ...).")
    @Size(max = 64)
    public String reason;

    @Size(max = 1024)
    public String message;

    @JsonPropertyDescription("RFC 3339 time the phase last changed.")
    public String lastTransitionTime;
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class LayerSetEntry extends Entry {
    public LayerSetPhase phase;
    public String chainId;
    public String root;
    public Long bytes;
    public Long files;
    public Long fetchedBytes;
    public Long totalBytes;

    @JsonPropertyDescription(
        "Why the node holds it: Selector (its nodeSelector selects the node), Volume (pod volumes"
            + " use or asked for it here), or both.")
    @Size(max = 2)
    public List<String> requestedBy;

    @JsonPropertyDescription("How many pod volumes on this node use it; omitted when none.")
    public Integer volumes;
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class OverlayMountEntry extends Entry {
    public MountPhase phase;
    public String target;
    public String lowerdir;
    public String upperdir;
    public String workdir;
    public String options;
  }

  /** Counts for {@code kubectl get nls}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Summary {
    public Integer layerSets;
    public Integer overlayMounts;

    @JsonPropertyDescription("Entries Ready or Mounted, of all entries, as N/M.")
    public String ready;
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Cache {
    public Long bytes;
    public Long files;
    public Long capacityBytes;
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Agent {
    public String version;
    public String kernel;
    public List<String> overlayFeatures;
  }
}
