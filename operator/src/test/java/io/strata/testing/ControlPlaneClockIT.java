package io.strata.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The test control plane starts whatever time the wall clock shows. kube-api-test's own start-up
 * wait compares {@code LocalTime} values, so every start within its timeout of midnight failed at
 * once; this starts one in a JVM whose clock libfaketime sets to 23:58:30 (of yesterday, so that
 * certificates it makes are already valid for kube-apiserver, which reads the real clock).
 */
class ControlPlaneClockIT {
  private static final Path LIBFAKETIME =
      Path.of("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1");

  @Test
  void startsTwoMinutesBeforeMidnight(@TempDir Path tmp) throws Exception {
    Tools.require(Files.isReadable(LIBFAKETIME), "libfaketime (Debian package faketime)");
    String java = ProcessHandle.current().info().command().orElse("java");
    String clock = "@" + LocalDate.now(ZoneOffset.UTC).minusDays(1) + " 23:58:30";

    String printed =
        Tools.sh(
            tmp,
            "LD_PRELOAD='"
                + LIBFAKETIME
                + "' FAKETIME='"
                + clock
                + "' TZ=UTC '"
                + java
                + "' -Dstrata.projectRoot='"
                + ProjectFiles.root()
                + "' -cp '"
                + System.getProperty("java.class.path")
                + "' "
                + ControlPlaneClockIT.class.getName());

    assertThat(printed).contains("clock 23:58").contains("default namespace present");
  }

  /** Starts the control plane in this JVM, prints what it saw and exits (its threads linger). */
  public static void main(String[] args) {
    System.out.println("clock " + LocalTime.now(ZoneOffset.UTC));
    int status = 1;
    try (KubernetesClient client = ControlPlane.shared().adminClient()) {
      if (client.namespaces().withName("default").get() != null) {
        System.out.println("default namespace present");
        status = 0;
      }
    } catch (RuntimeException e) {
      e.printStackTrace(System.out);
    }
    System.exit(status);
  }
}
