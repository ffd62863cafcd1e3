package io.strata.sys;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.testing.Tools;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Nettle's SHA-256, through the binding, gives the standard's digests and the JDK's for the same
 * bytes however they are fed: offsets inside a larger array, single bytes, block boundaries, many
 * updates, and a digest that starts the context over.
 */
class Sha256Test {
  @BeforeEach
  void nettleLoads() throws Exception {
    Tools.require(Sha256.isNative(), Sha256.LIBRARY + " (Debian: libnettle8)");
    // What these tests compare against must not be what they test.
    assertThat(Sha256.newDigest().getClass())
        .isNotEqualTo(MessageDigest.getInstance("SHA-256").getClass());
  }

  @Test
  void standardVectors() {
    assertThat(hex(""))
        .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assertThat(hex("abc"))
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assertThat(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
        .isEqualTo("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  }

  @Test
  void equalsTheJdksHoweverTheBytesAreFed() throws Exception {
    Random random = new Random(7);
    byte[] data = new byte[3 << 20];
    random.nextBytes(data);
    for (int round = 0; round < 20; round++) {
      MessageDigest nettle = Sha256.newDigest();
      MessageDigest jdk = MessageDigest.getInstance("SHA-256");
      int from = random.nextInt(1000);
      int to = from + random.nextInt(data.length - from);
      for (int at = from; at < to; ) {
        int n = Math.min(to - at, random.nextInt(4) == 0 ? 1 : random.nextInt(200_000));
        if (n == 1) {
          nettle.update(data[at]);
        } else {
          nettle.update(data, at, n);
        }
        at += n;
      }
      jdk.update(data, from, to - from);
      assertThat(nettle.digest()).as("bytes %d..%d", from, to).isEqualTo(jdk.digest());
    }
  }

  @Test
  void digestAndResetStartOver() {
    MessageDigest sha = Sha256.newDigest();
    byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
    sha.update(abc);
    byte[] first = sha.digest();
    sha.update(abc);
    assertThat(sha.digest()).isEqualTo(first);
    sha.update(new byte[100]);
    sha.reset();
    sha.update(abc);
    assertThat(sha.digest()).isEqualTo(first);
    assertThat(sha.getDigestLength()).isEqualTo(32);
  }

  private static String hex(String text) {
    return HexFormat.of()
        .formatHex(Sha256.newDigest().digest(text.getBytes(StandardCharsets.US_ASCII)));
  }
}
