package io.strata.fetch;

import io.strata.fetch.FetchException.Reason;
import java.io.IOException;

/** A server's answer that asking again will not change: wrong credentials, nothing there. */
public final class RefusedException extends IOException {
  private final Reason reason;

  public RefusedException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
