package io.strata.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.testing.Consistently;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeLockTest {
  @TempDir Path stateDir;

  @Test
  void aSecondAgentWaitsUntilTheFirstReleasesTheLock() throws Exception {
    NodeLock first = NodeLock.acquire(stateDir, Duration.ofMillis(20));
    CompletableFuture<NodeLock> second =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return NodeLock.acquire(stateDir, Duration.ofMillis(20));
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    Consistently.during(
        Duration.ofMillis(300),
        () -> assertThat(second).as("second agent still waiting").isNotDone());

    first.close();
    try (NodeLock acquired = second.get(10, TimeUnit.SECONDS)) {
      assertThat(acquired.path()).isEqualTo(stateDir.resolve(".lock"));
    }
  }
}
