package io.strata.crd;

import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigInteger;

/**
 * A size in bytes as Strata's resources and command line accept it: a whole number with an optional
 * binary ({@code Ki Mi Gi Ti}) or decimal ({@code k M G T}) suffix, from 1 byte to {@link #MAX}.
 * Kubernetes quantities also allow fractions, milli-units and exponents ({@code 100m}, {@code 1.5},
 * {@code 1e3}); none of them names a whole number of bytes an agent can honour, so the CRDs refuse
 * them with {@link #PATTERN} and this parser refuses them again, naming the field.
 */
public final class ByteQuantity {
  /** The largest size accepted: a tmpfs or a capped upper bigger than this is a mistake. */
  public static final long MAX = 1L << 40;

  /** The whole numbers of bytes accepted, before their bounds. */
  public static final String PATTERN = "^[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?$";

  /**
   * The CEL rule that holds {@code sizeLimit} to {@link #PATTERN} and its bounds. A rule, since the
   * CRD generator puts no pattern on an int-or-string quantity: it matches the value as text, then
   * compares it as a quantity.
   */
  public static final String CEL_SIZE_LIMIT =
      "!has(self.sizeLimit) || (string(self.sizeLimit).matches('^[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?$')"
          + " && quantity(string(self.sizeLimit)).isGreaterThan(quantity('0'))"
          + " && quantity(string(self.sizeLimit)).compareTo(quantity('1Ti')) <= 0)";

  /** What the CRDs say when {@link #CEL_SIZE_LIMIT} refuses a value. */
  public static final String CEL_SIZE_LIMIT_MESSAGE =
      "spec.upper.sizeLimit must be a whole number of bytes, optionally with Ki, Mi, Gi, Ti, k, M,"
          + " G or T, from 1 to 1Ti";

  private ByteQuantity() {}

  /**
   * The bytes {@code value} names.
   *
   * @param field names the value in the error, such as {@code spec.upper.sizeLimit}
   * @throws IllegalArgumentException naming {@code field} and the value, when it is not a whole
   *     number of bytes from 1 to {@link #MAX}
   */
  public static long parse(String field, String value) {
    if (value == null || value.length() > 32 || !value.matches(PATTERN)) {
      throw new IllegalArgumentException(
          field
              + " is "
              + (value == null ? "missing" : "\"" + shorten(value) + "\"")
              + ": it must be a whole number of bytes, optionally with Ki, Mi, Gi, Ti, k, M, G or T");
    }
    int digits = 0;
    while (digits < value.length() && Character.isDigit(value.charAt(digits))) {
      digits++;
    }
    BigInteger bytes =
        new BigInteger(value.substring(0, digits))
            .multiply(BigInteger.valueOf(factor(value.substring(digits))));
    if (bytes.signum() <= 0 || bytes.compareTo(BigInteger.valueOf(MAX)) > 0) {
      throw new IllegalArgumentException(
          field + " is \"" + value + "\": it must be at least 1 byte and at most 1Ti");
    }
    return bytes.longValueExact();
  }

  /** The bytes a quantity from a resource names; see {@link #parse(String, String)}. */
  public static long parse(String field, Quantity quantity) {
    return parse(
        field,
        quantity == null
            ? null
            : quantity.getAmount() + (quantity.getFormat() == null ? "" : quantity.getFormat()));
  }

  private static long factor(String suffix) {
    return switch (suffix) {
      case "" -> 1;
      case "k" -> 1_000L;
      case "M" -> 1_000_000L;
      case "G" -> 1_000_000_000L;
      case "T" -> 1_000_000_000_000L;
      case "Ki" -> 1L << 10;
      case "Mi" -> 1L << 20;
      case "Gi" -> 1L << 30;
      case "Ti" -> 1L << 40;
      default -> throw new IllegalArgumentException("unknown suffix " + suffix);
    };
  }

  private static String shorten(String value) {
    return value.length() <= 32 ? value : value.substring(0, 32) + "...";
  }
}
