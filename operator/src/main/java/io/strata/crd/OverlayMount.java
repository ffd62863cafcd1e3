package io.strata.crd;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** An overlayfs on the selected nodes with a LayerSet as its lower layer. Cluster-scoped. */
@Group(StrataApi.GROUP)
@Version(StrataApi.VERSION)
@Plural("overlaymounts")
@ShortNames("om")
@ValidationRule(value = StrataApi.DNS_LABEL_NAME_RULE, message = StrataApi.DNS_LABEL_NAME_MESSAGE)
@AdditionalPrinterColumn(
    name = "LayerSet",
    jsonPath = ".spec.layerSetRef.name",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Desired",
    jsonPath = ".status.desiredNodes",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.readyNodes",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class OverlayMount extends CustomResource<OverlayMount.Spec, OverlayMount.Status> {

  /**
   * Syntax of a target: absolute, segments of {@code [A-Za-z0-9._-]} that are neither {@code .} nor
   * {@code ..}, no empty segment (so no {@code //} and no trailing {@code /}). Which base it must
   * lie under is each agent's own setting and is checked there.
   */
  static final String TARGET_PATTERN =
      "^(/([A-Za-z0-9_-][A-Za-z0-9._-]*|\\.[A-Za-z0-9_-][A-Za-z0-9._-]*|\\.\\.[A-Za-z0-9._-]+))+$";

  @JsonInclude(JsonInclude.Include.NON_NULL)
  @ValidationRule(
      value = "!(has(self.readOnly) && self.readOnly && has(self.upper))",
      message = "a readOnly mount has no upper: remove spec.upper or set readOnly to false")
  public static class Spec {
    @JsonPropertyDescription("The LayerSet whose root is the lower layer.")
    @Required
    public LayerSetReference layerSetRef;

    @JsonPropertyDescription("Narrows the nodes of the LayerSet; omitted keeps them all.")
    public LabelSelector nodeSelector;

    @JsonPropertyDescription(
        "Absolute host path of the merged view; default <mount base>/<name>. Each agent refuses"
            + " a target not strictly under its own mount base.")
    @Size(min = 2, max = 1024)
    @Pattern(TARGET_PATTERN)
    public String target;

    @JsonPropertyDescription("true: no upper, mounted read-only.")
    @Default("false")
    public Boolean readOnly;

    @JsonPropertyDescription("The writable layer; omitted = {medium: Disk, reclaimPolicy: Delete}.")
    public Upper upper;

    @JsonPropertyDescription("WaitForNodes (default) or Orphan.")
    @Default("WaitForNodes")
    public DeletionPolicy deletionPolicy;

    @JsonPropertyDescription("Allow-listed mount options.")
    public Options options;
  }

  /** A LayerSet by name: a DNS label, since LayerSet names are. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class LayerSetReference {
    @Required
    @Size(min = 1, max = 63)
    @Pattern(StrataApi.DNS_LABEL)
    public String name;

    public LayerSetReference() {}

    public LayerSetReference(String name) {
      this.name = name;
    }
  }

  public enum Medium {
    /**
     * upper and work directories under the agent's state dir; with a sizeLimit, on an ext4 of that
     * size of their own.
     */
    Disk,
    /** a tmpfs of sizeLimit under the mount base. */
    Memory
  }

  public enum ReclaimPolicy {
    Delete,
    Retain
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  @ValidationRule(
      value = "self.medium != 'Memory' || has(self.sizeLimit)",
      message = "spec.upper.sizeLimit is required when spec.upper.medium is Memory")
  @ValidationRule(
      value = ByteQuantity.CEL_SIZE_LIMIT,
      message = ByteQuantity.CEL_SIZE_LIMIT_MESSAGE)
  public static class Upper {
    @Default("Disk")
    public Medium medium;

    @JsonPropertyDescription(
        "Size of the upper: the tmpfs of a Memory upper, or for Disk an ext4 of its own in a"
            + " sparse file, which the kernel holds writes to; set when the mount is first made."
            + " Whole bytes, optionally with Ki, Mi, Gi, Ti, k, M, G or T (64Mi), up to 1Ti."
            + " Required for Memory.")
    public Quantity sizeLimit;

    @JsonPropertyDescription("Delete (default) or Retain the upper when the mount goes away.")
    @Default("Delete")
    public ReclaimPolicy reclaimPolicy;
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Options {
    @JsonPropertyDescription("Mount with overlayfs 'volatile': no syncs, upper lost on a crash.")
    @JsonProperty("volatile") // a Java keyword
    public Boolean volatileUpper;

    @JsonPropertyDescription("SELinux context passed as context=...; empty for none.")
    @Size(max = 256)
    @Pattern("^([a-z0-9_]+:[a-z0-9_]+:[a-z0-9_]+(:[A-Za-z0-9.,:-]+)?)?$")
    public String seLinuxContext;
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Status extends NodeSummaryStatus {}
}
