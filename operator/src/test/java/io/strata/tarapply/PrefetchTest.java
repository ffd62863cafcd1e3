package io.strata.tarapply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

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
    long after = reads.get();
    Thread.sleep(200);
    assertThat(reads.get()).isEqualTo(after);
    assertThat(Thread.getAllStackTraces().keySet())
        .noneMatch(t -> t.getName().equals("strata-layer-read"));
  }
}
