package io.strata.crd;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.generator.annotation.Size;

/** One node where a LayerSet or OverlayMount failed, as the controller summarises it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class FailedNode {
  @Size(max = 253)
  public String nodeName;

  /** CamelCase, e.g. {@code DigestMismatch}. */
  @Size(max = 64)
  public String reason;

  @Size(max = 1024)
  public String message;

  public FailedNode() {}

  public FailedNode(String nodeName, String reason, String message) {
    this.nodeName = nodeName;
    this.reason = reason;
    this.message = message;
  }
}
