package io.strata.sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** {@code struct statfs} on 64-bit Linux: filesystem type, space and inodes. */
public record FsStat(
    long type,
    long blockSize,
    long blocks,
    long freeBlocks,
    long availableBlocks,
    long files,
    long freeFiles) {

  static final int SIZE = 120;

  static FsStat decode(byte[] raw) {
    ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder());
    return new FsStat(
        b.getLong(0),
        b.getLong(8),
        b.getLong(16),
        b.getLong(24),
        b.getLong(32),
        b.getLong(40),
        b.getLong(48));
  }

  public long availableBytes() {
    return availableBlocks * blockSize;
  }

  public long totalBytes() {
    return blocks * blockSize;
  }
}
