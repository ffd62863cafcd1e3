package io.strata.overlay;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.strata.sys.MountOption;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Fuzzes the mount request planner and the target check with Jazzer: whatever paths, uid and
 * options it is given, a plan either is refused or carries exactly the paths it was given, none
 * holding a character that means something in mount data, and no option it was not meant to have; a
 * target is accepted only strictly beneath the mount base. Seeds: {@code
 * MountRequestFuzzTestInputs/}.
 */
class MountRequestFuzzTest {
  private static final Path BASE = Path.of("/mnt/strata");

  @FuzzTest(maxDuration = "20s")
  void aPlanCarriesExactlyTheGivenPathsAndNoSmuggledOption(FuzzedDataProvider data) {
    OverlayRequest request;
    try {
      boolean readOnly = data.consumeBoolean();
      boolean isVolatile = data.consumeBoolean();
      String uid = data.consumeString(70);
      String context = data.consumeString(60);
      Path target = Path.of(data.consumeString(300));
      Path lower = Path.of(data.consumeString(300));
      Path upper = Path.of(data.consumeString(300));
      Path work = Path.of(data.consumeRemainingAsString());
      request =
          readOnly
              ? OverlayRequest.readOnly(uid, target, lower, work)
              : OverlayRequest.writable(uid, target, lower, upper, work);
      request = (isVolatile ? request.withVolatile() : request).withSeLinuxContext(context);
    } catch (InvalidPathException e) {
      return; // a NUL: no Path holds it, so no request is ever made of it
    }
    MountSpec spec;
    try {
      spec = OverlayPlanner.plan(request);
    } catch (MountRefusedException e) {
      return; // refused before any syscall: always allowed
    }
    assertThat(spec.data().length()).isLessThanOrEqualTo(OverlayPlanner.MAX_DATA);
    assertThat(spec.flags()).contains(MountOption.NO_SUID, MountOption.NO_DEV);
    assertThat(spec.target()).isEqualTo(request.target());
    List<Path> paths = new ArrayList<>(List.of(request.target(), request.lowerRoot()));
    List<String> expected = new ArrayList<>();
    if (request.readOnly()) {
      paths.add(request.emptyLower());
      expected.add("lowerdir=" + request.lowerRoot() + ":" + request.emptyLower());
    } else {
      paths.addAll(List.of(request.upperDir(), request.workDir()));
      expected.add("lowerdir=" + request.lowerRoot());
      expected.add("upperdir=" + request.upperDir());
      expected.add("workdir=" + request.workDir());
    }
    for (Path path : paths) {
      assertThat(path.toString())
          .as("a path in mount data")
          .doesNotContainPattern("[,:\\\\\\s\\p{Cntrl}]");
    }
    expected.addAll(List.of("index=off", "metacopy=off", "redirect_dir=off"));
    if (request.volatileUpper() && !request.readOnly()) {
      expected.add("volatile");
    }
    if (request.seLinuxContext() != null && !request.seLinuxContext().isEmpty()) {
      expected.add("context=\"" + request.seLinuxContext() + "\"");
    }
    assertThat(options(spec.data())).isEqualTo(expected);
  }

  @FuzzTest(maxDuration = "10s")
  void aTargetIsAcceptedOnlyStrictlyBeneathTheBase(FuzzedDataProvider data) {
    String target = data.consumeRemainingAsString();
    Path accepted;
    try {
      accepted = MountTargets.requireUnderBase(BASE, target);
    } catch (MountRefusedException | InvalidPathException e) {
      return;
    }
    assertThat(accepted.isAbsolute()).isTrue();
    assertThat(accepted.normalize()).isEqualTo(accepted);
    assertThat(accepted.startsWith(BASE) && !accepted.equals(BASE)).isTrue();
    assertThat(accepted.toString()).isEqualTo(target);
    assertThat(accepted.getName(BASE.getNameCount()).toString())
        .isNotEqualTo(MountTargets.UPPERS_DIR);
  }

  /** Mount data split as the kernel splits it: on commas outside double quotes. */
  private static List<String> options(String data) {
    List<String> options = new ArrayList<>();
    StringBuilder option = new StringBuilder();
    boolean quoted = false;
    for (char c : data.toCharArray()) {
      if (c == '"') {
        quoted = !quoted;
      }
      if (c == ',' && !quoted) {
        options.add(option.toString());
        option.setLength(0);
      } else {
        option.append(c);
      }
    }
    options.add(option.toString());
    return options;
  }
}
