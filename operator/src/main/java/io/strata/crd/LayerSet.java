package io.strata.crd;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;
import java.util.List;

/** An ordered chain of filesystem layers that the selected nodes must hold. Cluster-scoped. */
@Group(StrataApi.GROUP)
@Version(StrataApi.VERSION)
@Plural("layersets")
@ShortNames("lset")
@ValidationRule(value = StrataApi.DNS_LABEL_NAME_RULE, message = StrataApi.DNS_LABEL_NAME_MESSAGE)
@AdditionalPrinterColumn(
    name = "Desired",
    jsonPath = ".status.desiredNodes",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.readyNodes",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Progress",
    jsonPath = ".status.progress",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class LayerSet extends CustomResource<LayerSet.Spec, LayerSet.Status> {

  @JsonInclude(JsonInclude.Include.NON_NULL)
  @ValidationRule(
      value = "has(self.layers) != has(self.image)",
      message = "exactly one of spec.layers and spec.image must be set")
  public static class Spec {
    @JsonPropertyDescription("Node labels this LayerSet selects; omitted selects every node.")
    public LabelSelector nodeSelector;

    @JsonPropertyDescription("Layer blobs, base first. Exactly one of layers and image.")
    @Size(min = 1, max = 128)
    public List<Layer> layers;

    @JsonPropertyDescription(
        "An OCI image or index in a registry, by tag or digest. Exactly one of layers and image.")
    @Size(min = 1, max = 512)
    @Pattern("^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$")
    public String image;

    @JsonPropertyDescription(
        "A kubernetes.io/dockerconfigjson Secret in Strata's own namespace, for image.")
    public NameReference pullSecretRef;

    @JsonPropertyDescription("WaitForNodes (default) or Orphan.")
    @Default("WaitForNodes")
    public DeletionPolicy deletionPolicy;

    @JsonPropertyDescription(
        "Which namespaces' pods may mount this LayerSet as a csi.strata.io volume; omitted: none.")
    public VolumeAccess volumeAccess;
  }

  /** Who may mount a LayerSet as a pod volume: its root may hold a private image. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class VolumeAccess {
    @JsonPropertyDescription(
        "Labels of the namespaces allowed; {} allows every namespace, omitted allows none.")
    public LabelSelector namespaceSelector;
  }

  /** One layer blob, fetched from a URL and verified against its digest. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Layer {
    @JsonPropertyDescription("http, https or file URL of the blob.")
    @Required
    @Size(min = 8, max = 2048)
    @Pattern("^(https?|file)://[^\\s]+$")
    public String url;

    @JsonPropertyDescription("sha256 digest of the bytes as fetched.")
    @Required
    @Pattern(StrataApi.SHA256_DIGEST)
    public String digest;

    @JsonPropertyDescription("tar, tar+gzip or tar+zstd layer media type; sniffed when omitted.")
    @Size(max = 128)
    @Pattern(
        "^application/vnd\\.(oci\\.image\\.layer\\.v1\\.tar(\\+gzip|\\+zstd)?"
            + "|docker\\.image\\.rootfs\\.diff\\.tar(\\.gzip)?)$")
    public String mediaType;

    @JsonPropertyDescription(
        "Size in bytes of the blob as fetched; optional. A download that says or sends more is"
            + " refused.")
    @Min(1)
    public Long size;

    public Layer() {}

    public Layer(String url, String digest) {
      this.url = url;
      this.digest = digest;
    }
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Status extends NodeSummaryStatus {
    @JsonPropertyDescription(
        "spec.image pinned to a digest by the controller, once per generation.")
    public String resolvedImage;

    @JsonPropertyDescription("OCI chain ID of the top layer's root, once nodes agree.")
    public String chainId;

    @JsonPropertyDescription("Nodes where pod volumes use this LayerSet; omitted when none.")
    public Integer volumeNodes;

    @JsonPropertyDescription(
        "How far the selected nodes are, in words: ready of desired, then those fetching (bytes"
            + " fetched of their total), materializing and failed; for kubectl get.")
    public String progress;

    @JsonPropertyDescription("Selected nodes fetching this generation's layers; omitted when none.")
    public Integer fetchingNodes;

    @JsonPropertyDescription(
        "Selected nodes materializing this generation's root; omitted when none.")
    public Integer materializingNodes;

    @JsonPropertyDescription(
        "Bytes the fetching nodes have fetched, summed; omitted when none fetch.")
    public Long fetchedBytes;

    @JsonPropertyDescription(
        "Bytes the fetching nodes fetch in all, summed; omitted while some node's total is unknown.")
    public Long totalBytes;
  }
}
