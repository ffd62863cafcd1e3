package io.strata.oci;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * OCI chain IDs: {@code ChainID(L0) = DiffID(L0)}, {@code ChainID(L0..n) = sha256(ChainID(L0..n-1)
 * + " " + DiffID(Ln))}. A chain ID names the root a stack of layers produces, so stacks that share
 * a prefix share those roots.
 */
public final class ChainIds {
  private ChainIds() {}

  public static Digest next(Digest parentChain, Digest diffId) {
    if (parentChain == null) {
      return diffId;
    }
    return Digest.of((parentChain + " " + diffId).getBytes(StandardCharsets.US_ASCII));
  }

  /** The chain ID of every prefix of {@code diffIds}. */
  public static List<Digest> of(List<Digest> diffIds) {
    List<Digest> chain = new ArrayList<>(diffIds.size());
    Digest parent = null;
    for (Digest diffId : diffIds) {
      parent = next(parent, diffId);
      chain.add(parent);
    }
    return chain;
  }
}
