package io.strata.layerstore;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.luben.zstd.ZstdOutputStream;
import io.strata.layerstore.LayerStore.LayerSource;
import io.strata.layout.NodeLayout;
import io.strata.layout.Trees;
import io.strata.sys.Syscalls;
import io.strata.tarapply.LayerException;
import io.strata.tarapply.Limits;
import io.strata.testing.Canaries;
import io.strata.testing.ProjectFiles;
import io.strata.testing.RootMounts;
import io.strata.testing.TarBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

/**
 * Fuzzes the layer reader and writer: archives built from the tar, PAX, GNU long name and sparse
 * seeds committed in {@code src/test/resources/fuzz/layers} (made by GNU tar) and from entries
 * drawn from the names and link targets that attack a root, then mutated byte by byte, cut short,
 * and framed in gzip or zstd. Whatever the bytes, applying them on top of a committed base either
 * commits a root or fails with a {@link LayerException} naming why; never another exception, and
 * never a change outside the root being built: canaries outside the state dir and the committed
 * base stay as they were, and staging is empty after each. Tries: {@code jqwik.tries.default} (CI's
 * in junit-platform.properties; {@code hack/fuzz.sh} runs more).
 */
class LayerFuzzTest {
  private static Path tmp;
  private static Canaries canaries;
  private static Path canary;
  private static LayerStore store;
  private static Path base;
  private static List<byte[]> seeds;

  @BeforeContainer
  static void setUp() throws Exception {
    assertThat(RootMounts.isRoot()).as("owners and devices need root (CI runs as root)").isTrue();
    tmp = Files.createTempDirectory("strata-layer-fuzz");
    canaries = new Canaries();
    canary = canaries.plant(tmp.resolve("canary"));
    Path state = tmp.resolve("state");
    store =
        new LayerStore(new NodeLayout(state, tmp.resolve("mnt")), Syscalls.get(), Limits.DEFAULT);
    base =
        new TarBuilder()
            .dir("etc")
            .file("etc/hostname", "base")
            .dir("d/sub")
            .file("d/sub/kept", "lower")
            .symlink("l", "d")
            .write(tmp.resolve("base.tar"));
    Path baseRoot = store.materialize(List.of(new LayerSource(base, null, null))).root();
    canaries.watchCommittedRoot(baseRoot);
    try (Stream<Path> files = Files.list(ProjectFiles.root().resolve(SEEDS))) {
      seeds = files.sorted().map(LayerFuzzTest::read).filter(b -> b.length > 0).toList();
    }
    assertThat(seeds).as("the committed seeds").isNotEmpty();
  }

  private static final String SEEDS = "operator/src/test/resources/fuzz/layers";

  @AfterContainer
  static void tearDown() throws IOException {
    if (tmp != null) {
      Trees.deleteUnmounted(tmp);
    }
  }

  private static byte[] read(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Names and link targets that aim at the root's edges. */
  private static final List<String> NAMES =
      List.of(
          "a",
          "b",
          "d",
          "d/sub",
          "d/sub/x",
          "l",
          "l/x",
          "l/sub",
          "..",
          "../x",
          "a/../../x",
          ".",
          "./",
          "/etc/x",
          "/",
          ".wh.a",
          "d/.wh.sub",
          "d/.wh..wh..opq",
          ".wh..wh..opq",
          "a/b/c",
          "x".repeat(255),
          "etc",
          "etc/hostname");

  private static final List<String> TARGETS =
      List.of(
          "/",
          "..",
          "../..",
          "../../../../..",
          "d",
          "d/sub",
          "l",
          "/etc",
          "/proc/self/root",
          "a/../../..",
          "etc/hostname",
          "/d/sub/kept");

  @Provide
  Arbitrary<List<Entry>> generated() {
    Arbitrary<String> names = Arbitraries.of(NAMES);
    Arbitrary<String> targets =
        Arbitraries.oneOf(Arbitraries.of(TARGETS), Arbitraries.just(canary.toString()));
    Arbitrary<Entry> entry =
        Arbitraries.oneOf(
            names.map(n -> (Entry) b -> b.dir(n)),
            names.map(n -> (Entry) b -> b.file(n, "data")),
            Combinators.combine(names, targets).as((n, t) -> (Entry) b -> b.symlink(n, t)),
            Combinators.combine(names, names).as((n, t) -> (Entry) b -> b.hardlink(n, t)),
            names.map(n -> (Entry) b -> b.fifo(n)),
            names.map(n -> (Entry) b -> b.opaque(n)));
    return entry.list().ofMinSize(1).ofMaxSize(12);
  }

  interface Entry {
    void addTo(TarBuilder tar);
  }

  /** A mutation of an archive: bytes flipped, a cut, and a frame. */
  record Mutation(List<int[]> flips, int cutPerMille, int frame) {}

  @Provide
  Arbitrary<Mutation> mutations() {
    Arbitrary<int[]> flip =
        Combinators.combine(
                Arbitraries.integers().between(0, 1 << 20), Arbitraries.integers().between(0, 255))
            .as((at, value) -> new int[] {at, value});
    return Combinators.combine(
            flip.list().ofMaxSize(6),
            Arbitraries.oneOf(Arbitraries.just(1000), Arbitraries.integers().between(0, 1000)),
            Arbitraries.integers().between(0, 2))
        .as(Mutation::new);
  }

  @Property
  void aSeedMutatedIsAppliedOrRefusedAndNothingOutsideChanges(
      @ForAll("seedIndexes") int seed, @ForAll("mutations") Mutation mutation) throws Exception {
    check(mutate(seeds.get(seed), mutation));
  }

  @Provide
  Arbitrary<Integer> seedIndexes() {
    return Arbitraries.integers().between(0, seeds.size() - 1);
  }

  @Property
  void aGeneratedArchiveIsAppliedOrRefusedAndNothingOutsideChanges(
      @ForAll("generated") List<Entry> entries, @ForAll("mutations") Mutation mutation)
      throws Exception {
    byte[] bytes;
    try {
      TarBuilder tar = new TarBuilder();
      entries.forEach(e -> e.addTo(tar));
      bytes = tar.bytes();
    } catch (RuntimeException e) {
      return; // Commons Compress's writer refused the entry list: nothing to apply
    }
    check(mutate(bytes, mutation));
  }

  private static byte[] mutate(byte[] archive, Mutation mutation) throws IOException {
    byte[] bytes = archive.clone();
    for (int[] flip : mutation.flips()) {
      bytes[flip[0] % bytes.length] = (byte) flip[1];
    }
    int length = (int) ((long) bytes.length * mutation.cutPerMille() / 1000);
    bytes = java.util.Arrays.copyOf(bytes, length);
    ByteArrayOutputStream framed = new ByteArrayOutputStream();
    try (OutputStream out =
        switch (mutation.frame()) {
          case 1 -> new GzipCompressorOutputStream(framed);
          case 2 -> new ZstdOutputStream(framed);
          default -> framed;
        }) {
      out.write(bytes);
    }
    return framed.toByteArray();
  }

  private static void check(byte[] layer) throws Exception {
    Path file = Files.write(tmp.resolve("fuzzed"), layer);
    try {
      Path root =
          store
              .materialize(
                  List.of(new LayerSource(base, null, null), new LayerSource(file, null, null)))
              .root();
      assertThat(root).isDirectory();
    } catch (LayerException e) {
      assertThat(e.reason()).as(e.getMessage()).isNotNull();
    }
    canaries.assertUntouched();
    try (Stream<Path> left = Files.list(tmp.resolve("state/staging"))) {
      assertThat(left.filter(p -> !p.toString().endsWith(".lock"))).as("staging").isEmpty();
    }
    assertThat(Files.readString(canary.resolve("secret"), StandardCharsets.UTF_8))
        .isEqualTo("do not touch");
  }
}
