package io.strata;

/**
 * The one convention for refusals and failures a node reports: a CamelCase reason from its domain's
 * enum (layer content, fetching, mounts), which becomes an entry's {@code reason} and an Event's
 * reason as it is spelled, and a message naming what was wrong.
 */
public abstract class ReasonedException extends Exception {
  private final Enum<?> reason;

  protected ReasonedException(Enum<?> reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  /** Why, as NodeLayerState and Events report it; subclasses narrow it to their domain's enum. */
  public Enum<?> reason() {
    return reason;
  }
}
