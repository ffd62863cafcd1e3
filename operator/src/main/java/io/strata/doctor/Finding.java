package io.strata.doctor;

/** One row of {@code strata doctor}'s table. */
public record Finding(String check, Severity severity, String detail) {

  public enum Severity {
    OK,
    WARN,
    /** Overlays cannot work on this node: doctor exits non-zero. */
    FAIL
  }

  static Finding ok(String check, String detail) {
    return new Finding(check, Severity.OK, detail);
  }

  static Finding warn(String check, String detail) {
    return new Finding(check, Severity.WARN, detail);
  }

  static Finding fail(String check, String detail) {
    return new Finding(check, Severity.FAIL, detail);
  }
}
