package io.strata.sys;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.Pinned;
import jnr.ffi.types.size_t;

/**
 * SHA-256 for blob digests and diffIDs: Nettle's (GnuTLS's crypto library, which uses the CPU's SHA
 * instructions where it has them) when {@code libnettle.so.8} loads, else the JDK's.
 *
 * <p>The JDK's SHA-256 is fast only once C2 has compiled it with its intrinsic; before that, and
 * always in a JVM that runs C1 alone (the agent's flags), it is several times slower. Every layer
 * byte is hashed once or twice, so Nettle hashes from the first byte at the speed C2 reaches last.
 * Nettle ships with GnuTLS on every mainstream distribution and in Strata's image.
 */
public final class Sha256 {
  /** The soname whose ABI (function names, context size) this binding was written against. */
  static final String LIBRARY = "libnettle.so.8";

  /** {@code struct sha256_ctx} is 112 bytes in Nettle 3; room to spare. */
  private static final int CONTEXT_BYTES = 256;

  private static final int DIGEST_BYTES = 32;

  /**
   * The raw binding, mirroring Nettle's C signatures. A context is a direct buffer: the JDK frees
   * it with its digest.
   */
  public interface Nettle {
    void nettle_sha256_init(ByteBuffer context);

    // Pinned: Nettle reads the bytes in place; hashing is pure computation and never blocks.
    void nettle_sha256_update(ByteBuffer context, @size_t long length, @Pinned @In ByteBuffer data);

    void nettle_sha256_digest(ByteBuffer context, @size_t long length, @Out byte[] digest);
  }

  private static final Nettle NETTLE = load();

  private Sha256() {}

  /** A new SHA-256 digest: Nettle's if it loaded, else the JDK's. */
  public static MessageDigest newDigest() {
    if (NETTLE != null) {
      return new NettleDigest(NETTLE);
    }
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** Which implementation {@link #newDigest} returns, for {@code strata doctor}. */
  public static String implementation() {
    return NETTLE != null ? LIBRARY : "the JDK's (" + LIBRARY + " not found)";
  }

  /** Whether Nettle's implementation is in use. */
  public static boolean isNative() {
    return NETTLE != null;
  }

  private static Nettle load() {
    try {
      return LibraryLoader.create(Nettle.class).failImmediately().load(LIBRARY);
    } catch (LinkageError | RuntimeException e) {
      return null;
    }
  }

  private static final class NettleDigest extends MessageDigest {
    private final Nettle nettle;
    private final ByteBuffer context = ByteBuffer.allocateDirect(CONTEXT_BYTES);

    NettleDigest(Nettle nettle) {
      super("SHA-256");
      this.nettle = nettle;
      nettle.nettle_sha256_init(context);
    }

    @Override
    protected void engineUpdate(byte input) {
      engineUpdate(new byte[] {input}, 0, 1);
    }

    @Override
    protected void engineUpdate(byte[] input, int offset, int length) {
      if (length > 0) {
        nettle.nettle_sha256_update(context, length, ByteBuffer.wrap(input, offset, length));
      }
    }

    @Override
    protected int engineGetDigestLength() {
      return DIGEST_BYTES;
    }

    /** Nettle's digest call also starts the context over, as this method must. */
    @Override
    protected byte[] engineDigest() {
      byte[] digest = new byte[DIGEST_BYTES];
      nettle.nettle_sha256_digest(context, DIGEST_BYTES, digest);
      return digest;
    }

    @Override
    protected void engineReset() {
      nettle.nettle_sha256_init(context);
    }
  }
}
