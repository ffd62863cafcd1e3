package io.strata.tarapply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.testing.Consistently;
import io.strata.testing.Eventually;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PrefetchTest {
  private static byte[] bytes(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  @Test
  void theReaderSeesEveryByteInOrder() throws IOException {
    byte[] data = bytes(5 * Prefetch.CHUNK + 123);
    try (Prefetch in = new Prefetch(new ByteArrayInputStream(data))) {
      assertThat(in.readAllBytes()).isEqualTo(data);
      assertThat(in.read()).isEqualTo(-1);
    }
  }

  /**
   * The digest gets every chunk once and in order, whichever thread hashes it: a slow reader leaves
   * the hashing to the reading thread, a slow source to the reader, and a layer that favours one
   * and then the other, for longer than the chunks in flight, hands it back and forth.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"slow reader", "slow source", "each in turn"})
  void theDigestHoldsEveryByteInOrderWhoeverHashesIt(String pace) throws Exception {
    int stretch = 2 * Prefetch.AHEAD * Prefetch.CHUNK;
    byte[] data = bytes(4 * stretch + 4321);
    Random random = new Random(7);
    InputStream source =
        new ByteArrayInputStream(data) {
          @Override
          public synchronized int read(byte[] b, int off, int len) {
            pause(
                pace.equals("slow source")
                    || pace.equals("each in turn") && pos / stretch % 2 == 1);
            return super.read(b, off, Math.min(len, 1 + random.nextInt(Prefetch.CHUNK)));
          }
        };
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    try (Prefetch in = new Prefetch(source, digest)) {
      ByteArrayOutputStream seen = new ByteArrayOutputStream();
      byte[] buffer = new byte[100_000];
      for (int n; (n = in.read(buffer, 0, 1 + random.nextInt(buffer.length))) > 0; ) {
        seen.write(buffer, 0, n);
        pause(
            pace.equals("slow reader")
                || pace.equals("each in turn") && seen.size() / stretch % 2 == 0);
      }
      assertThat(seen.toByteArray()).isEqualTo(data);
    }
    assertThat(digest.digest()).isEqualTo(MessageDigest.getInstance("SHA-256").digest(data));
  }

  private static void pause(boolean slow) {
    if (slow) {
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Test
  void aFailureOfTheSourceReachesTheReaderAfterTheBytesBeforeIt() throws IOException {
    byte[] data = bytes(3 * Prefetch.CHUNK);
    InputStream failing =
        new SequenceInputStream(
            new ByteArrayInputStream(data),
            new InputStream() {
              @Override
              public int read() throws IOException {
                throw new IOException("Truncated zstd frame");
              }
            });
    try (Prefetch in = new Prefetch(failing)) {
      assertThat(in.readNBytes(data.length)).isEqualTo(data);
      assertThatThrownBy(in::read)
          .isInstanceOf(IOException.class)
          .hasMessage("Truncated zstd frame");
    }
  }

  @Test
  void closingStopsTheThreadAndTheSourceIsNotReadAfter() throws Exception {
    AtomicLong reads = new AtomicLong();
    InputStream endless =
        new InputStream() {
          @Override
          public int read() {
            reads.incrementAndGet();
            return 1;
          }

          @Override
          public int read(byte[] b, int off, int len) {
            reads.incrementAndGet();
            return len;
          }
        };
    Prefetch in = new Prefetch(endless);
    in.read(); // the reader stops early, as it does when an entry is refused
    in.close();
    Eventually.within(
        Duration.ofSeconds(10),
        () ->
            assertThat(Thread.getAllStackTraces().keySet())
                .noneMatch(t -> t.getName().equals("strata-layer-read")));
    long after = reads.get();
    Consistently.during(Duration.ofMillis(200), () -> assertThat(reads.get()).isEqualTo(after));
  }
}
