package io.strata.overlay;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.sys.LibC;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzes the mount request planner and the target check with paths built from the characters that
 * matter to mount data and to path syntax: whatever it is given, a plan either is refused or
 * carries exactly the paths it was given, each strictly where it must be, and no option it was not
 * meant to have. Tries: {@code jqwik.tries.default} (CI's in junit-platform.properties; {@code
 * hack/fuzz.sh} runs more).
 */
class MountRequestFuzzTest {
  private static final Path BASE = Path.of("/mnt/strata");

  @Provide
  Arbitrary<String> paths() {
    Arbitrary<String> piece =
        Arbitraries.oneOf(
            Arbitraries.of("a", "b", "..", ".", "", "x y", "a,b", "a:b", "a\\b", "a=b", "\n"),
            Arbitraries.strings().withChars("ab/.,:=\\ \t\n\u0000\u00e9\u202e").ofMaxLength(6));
    return piece
        .list()
        .ofMaxSize(8)
        .map(parts -> String.join("/", parts))
        .flatMap(p -> Arbitraries.of("/mnt/strata/" + p, "/" + p, p, "/var/lib/strata/" + p));
  }

  @Provide
  Arbitrary<OverlayRequest> requests() {
    Arbitrary<String> uids =
        Arbitraries.oneOf(
            Arbitraries.of("u1", "0f7b-4c", ""), Arbitraries.strings().ofMaxLength(70));
    Arbitrary<String> contexts =
        Arbitraries.oneOf(
            Arbitraries.of("", "system_u:object_r:container_file_t:s0:c1,c2"),
            Arbitraries.strings().withChars("a_:,.\"=s0c1").ofMaxLength(40));
    return Combinators.combine(
            uids,
            paths(),
            paths(),
            paths(),
            paths(),
            Arbitraries.of(true, false),
            Arbitraries.of(true, false),
            contexts)
        .as(
            (uid, target, lower, upper, work, readOnly, isVolatile, context) -> {
              try {
                OverlayRequest request =
                    readOnly
                        ? OverlayRequest.readOnly(
                            uid, Path.of(target), Path.of(lower), Path.of(work))
                        : OverlayRequest.writable(
                            uid, Path.of(target), Path.of(lower), Path.of(upper), Path.of(work));
                request = isVolatile ? request.withVolatile() : request;
                return request.withSeLinuxContext(context);
              } catch (InvalidPathException e) {
                return null; // NUL: no Path can hold it, so no request is ever made of it
              }
            })
        .filter(r -> r != null);
  }

  @Property
  void aPlanCarriesExactlyTheGivenPathsAndNoSmuggledOption(
      @ForAll("requests") OverlayRequest request) {
    MountSpec spec;
    try {
      spec = OverlayPlanner.plan(request);
    } catch (MountRefusedException e) {
      return; // refused before any syscall: always allowed
    }
    assertThat(spec.data().length()).isLessThanOrEqualTo(OverlayPlanner.MAX_DATA);
    assertThat(spec.flags() & (LibC.MS_NOSUID | LibC.MS_NODEV))
        .isEqualTo(LibC.MS_NOSUID | LibC.MS_NODEV);
    assertThat(spec.target()).isEqualTo(request.target());
    for (Path path :
        new Path[] {
          request.target(),
          request.lowerRoot(),
          request.readOnly() ? request.emptyLower() : request.upperDir(),
          request.readOnly() ? request.emptyLower() : request.workDir()
        }) {
      assertThat(path.toString())
          .as("a path in mount data")
          .doesNotContainPattern("[,:\\\\\\s\\p{Cntrl}]");
    }
    List<String> options = options(spec.data());
    List<String> expected = new ArrayList<>();
    if (request.readOnly()) {
      expected.add("lowerdir=" + request.lowerRoot() + ":" + request.emptyLower());
    } else {
      expected.add("lowerdir=" + request.lowerRoot());
      expected.add("upperdir=" + request.upperDir());
      expected.add("workdir=" + request.workDir());
    }
    expected.addAll(List.of("index=off", "metacopy=off", "redirect_dir=off"));
    if (request.volatileUpper() && !request.readOnly()) {
      expected.add("volatile");
    }
    if (request.seLinuxContext() != null && !request.seLinuxContext().isEmpty()) {
      expected.add("context=\"" + request.seLinuxContext() + "\"");
    }
    assertThat(options).isEqualTo(expected);
  }

  @Property
  void aTargetIsAcceptedOnlyStrictlyBeneathTheBase(@ForAll("paths") String target) {
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
