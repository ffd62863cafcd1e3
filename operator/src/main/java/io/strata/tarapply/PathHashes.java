package io.strata.tarapply;

import io.strata.tarapply.LayerException.Reason;
import java.security.SecureRandom;

/**
 * The paths one layer made or touched, kept as 64-bit hashes in one open-addressed table: at most
 * 16 bytes a path, whatever its length. The hash is keyed with a random seed per writer, so no
 * archive can be built to collide; an accidental collision, about one in ten million layers of a
 * million paths, would only spare a lower path from the layer's own opaque directory or whiteout.
 * Beyond {@code max} paths a layer is refused ({@link Reason#SizeLimit}), which bounds the table.
 */
final class PathHashes {
  private static final int INITIAL = 1 << 12;

  private final long seed = new SecureRandom().nextLong();
  private final long max;
  private long[] slots = new long[INITIAL]; // 0: empty
  private int size;

  PathHashes(long max) {
    this.max = max;
  }

  /** Adds {@code path}; false when it was there already. */
  boolean add(String path) throws LayerException {
    long hash = hash(path);
    int mask = slots.length - 1;
    for (int i = (int) hash & mask; ; i = (i + 1) & mask) {
      if (slots[i] == hash) {
        return false;
      }
      if (slots[i] == 0) {
        if (++size > max) {
          throw new LayerException(
              Reason.SizeLimit,
              "the layer names more than "
                  + max
                  + " paths, the directories its entries imply"
                  + " included");
        }
        slots[i] = hash;
        if (size * 2 > slots.length) {
          grow();
        }
        return true;
      }
    }
  }

  boolean contains(String path) {
    long hash = hash(path);
    int mask = slots.length - 1;
    for (int i = (int) hash & mask; slots[i] != 0; i = (i + 1) & mask) {
      if (slots[i] == hash) {
        return true;
      }
    }
    return false;
  }

  void clear() {
    slots = new long[INITIAL];
    size = 0;
  }

  private void grow() {
    long[] old = slots;
    slots = new long[old.length * 2];
    int mask = slots.length - 1;
    for (long hash : old) {
      if (hash != 0) {
        int i = (int) hash & mask;
        while (slots[i] != 0) {
          i = (i + 1) & mask;
        }
        slots[i] = hash;
      }
    }
  }

  /** FNV-1a over the characters, seeded, then MurmurHash3's finalizer; never 0. */
  private long hash(String path) {
    long h = 0xcbf29ce484222325L ^ seed;
    for (int i = 0; i < path.length(); i++) {
      h = (h ^ path.charAt(i)) * 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h == 0 ? 1 : h;
  }
}
