package io.strata.crd;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.generator.annotation.Size;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/**
 * The status the controller writes on LayerSets and OverlayMounts: per-node reports folded into a
 * summary whose size does not grow with the cluster.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NodeSummaryStatus {
  public Long observedGeneration;

  /** Every Node the selector matches, whatever that Node's conditions. */
  public Integer desiredNodes;

  public Integer readyNodes;

  /** At most 20 nodes; the rest are counted in {@link #moreFailedNodes}. */
  @Size(max = 20)
  public List<FailedNode> failedNodes = new ArrayList<>();

  public Integer moreFailedNodes;

  /** {@code Ready}, {@code Progressing}, {@code Degraded}, in metav1.Condition shape. */
  @Size(max = 8)
  public List<Condition> conditions = new ArrayList<>();
}
