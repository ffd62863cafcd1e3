package io.strata.kube;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.List;
import java.util.Map;

/** metav1.LabelSelector semantics, as the API server and kubectl apply them to labels. */
public final class LabelSelectors {
  private LabelSelectors() {}

  /**
   * Whether {@code selector} selects an object with {@code labels}. A null selector selects
   * everything (Strata's "omitted = every node"); an empty one does too, as in Kubernetes. An
   * unknown operator selects nothing, so a malformed selector never widens what a node serves.
   */
  public static boolean matches(LabelSelector selector, Map<String, String> labels) {
    if (selector == null) {
      return true;
    }
    Map<String, String> have = labels == null ? Map.of() : labels;
    Map<String, String> want = selector.getMatchLabels();
    if (want != null) {
      for (Map.Entry<String, String> label : want.entrySet()) {
        if (!label.getValue().equals(have.get(label.getKey()))) {
          return false;
        }
      }
    }
    List<LabelSelectorRequirement> expressions = selector.getMatchExpressions();
    if (expressions != null) {
      for (LabelSelectorRequirement requirement : expressions) {
        if (!matches(requirement, have)) {
          return false;
        }
      }
    }
    return true;
  }

  private static boolean matches(LabelSelectorRequirement requirement, Map<String, String> labels) {
    String value = labels.get(requirement.getKey());
    List<String> values = requirement.getValues() == null ? List.of() : requirement.getValues();
    return switch (String.valueOf(requirement.getOperator())) {
      case "In" -> value != null && values.contains(value);
      case "NotIn" -> value == null || !values.contains(value);
      case "Exists" -> value != null;
      case "DoesNotExist" -> value == null;
      default -> false;
    };
  }
}
