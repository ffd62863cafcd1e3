package io.strata.layerstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.layerstore.LayerStore.LayerSource;
import io.strata.layerstore.LayerStore.Materialized;
import io.strata.layout.StoreLayout;
import io.strata.oci.ChainIds;
import io.strata.oci.Digest;
import io.strata.sys.FileStat;
import io.strata.sys.Syscalls;
import io.strata.tarapply.LayerException;
import io.strata.tarapply.LayerException.Reason;
import io.strata.tarapply.Limits;
import io.strata.testing.TarBuilder;
import io.strata.testing.Tools;
import io.strata.testing.TreeSnapshot;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Layer semantics on real files, as root (owners, devices and xattrs need it). */
class LayerStoreTest {
  @TempDir Path tmp;
  private final Syscalls sys = Syscalls.get();
  private LayerStore store;

  @BeforeEach
  void prepare() {
    Tools.requireRoot("owners, devices and trusted checks need root");
    store = new LayerStore(new StoreLayout(tmp.resolve("state")), sys, Limits.DEFAULT);
  }

  private Materialized materialize(Path... layers) throws Exception {
    return store.materialize(Stream.of(layers).map(p -> new LayerSource(p, null, null)).toList());
  }

  private Path layer(String name, TarBuilder tar) {
    return tar.write(tmp.resolve(name + ".tar"));
  }

  @Test
  void everyKindOfEntryLandsWithItsMetadata() throws Exception {
    String longName = "long/" + "n".repeat(200) + "/" + "m".repeat(200) + ".txt";
    Path base =
        layer(
            "base",
            new TarBuilder()
                .dir("etc", 0750)
                .file(
                    "etc/tool",
                    "#!/bin/sh\n".getBytes(StandardCharsets.UTF_8),
                    e -> {
                      e.setMode(04755);
                      e.setUserId(1000);
                      e.setGroupId(1001);
                      e.addPaxHeader("mtime", "1234567890.5");
                      e.addPaxHeader("SCHILY.xattr.user.origin", "strata");
                    })
                .symlink("etc/link", "../x//y/")
                .hardlink("etc/tool-again", "etc/tool")
                .fifo("run/pipe")
                .charDevice("dev/null", 1, 3)
                .file(longName, "long")
                .file("café/naïve.txt", "accents")
                .file("implied/a/b/f", "implied parents")
                .file("sparse", new byte[3 << 20], e -> e.setMode(0600)));
    Materialized made = materialize(base);
    Path root = made.root();

    FileStat tool = sys.lstat(root.resolve("etc/tool"));
    assertThat(tool.mode() & 07777).isEqualTo(04755);
    assertThat(tool.uid()).isEqualTo(1000);
    assertThat(tool.gid()).isEqualTo(1001);
    assertThat(tool.mtimeSeconds()).isEqualTo(1234567890);
    assertThat(tool.mtimeNanos()).isEqualTo(500_000_000);
    assertThat(
            new String(
                sys.lgetxattr(root.resolve("etc/tool"), "user.origin"), StandardCharsets.UTF_8))
        .isEqualTo("strata");
    assertThat(sys.lstat(root.resolve("etc")).mode() & 07777).isEqualTo(0750);
    assertThat(sys.readlink(root.resolve("etc/link"))).isEqualTo("../x//y/");
    assertThat(sys.lstat(root.resolve("etc/tool-again")).ino()).isEqualTo(tool.ino());
    assertThat(sys.lstat(root.resolve("run/pipe")).type()).isEqualTo(FileStat.S_IFIFO);
    FileStat dev = sys.lstat(root.resolve("dev/null"));
    assertThat(dev.type()).isEqualTo(FileStat.S_IFCHR);
    assertThat(dev.major()).isEqualTo(1);
    assertThat(dev.minor()).isEqualTo(3);
    assertThat(Files.readString(root.resolve(longName))).isEqualTo("long");
    assertThat(Files.readString(root.resolve("café/naïve.txt"))).isEqualTo("accents");
    assertThat(sys.lstat(root.resolve("implied/a")).mode() & 07777).isEqualTo(0755);
    assertThat(Files.size(root.resolve("sparse"))).isEqualTo(3 << 20);
    assertThat(Files.readAllBytes(root.resolve("sparse"))).containsOnly((byte) 0);
    assertThat(made.files()).isEqualTo(6);
    assertThat(made.chainId()).isEqualTo(made.diffIds().getFirst());
  }

  @Test
  void whiteoutsHideLowerLayersAndOpaqueDirectoriesKeepTheirOwnLayerInAnyOrder() throws Exception {
    Path lower =
        layer(
            "lower",
            new TarBuilder()
                .dir("d")
                .file("d/a", "a")
                .file("d/sub/deep", "deep")
                .file("e/x", "x")
                .file("e/y", "y"));
    Path upper =
        layer(
            "upper",
            new TarBuilder()
                .file("d/new", "new") // before the opaque marker
                .opaque("d")
                .file("d/sub/later", "after") // after it, in a lower subdirectory
                .whiteout("e", "x")
                .file("e/same-layer", "kept")
                .whiteout("e", "same-layer") // cannot hide its own layer
                .whiteout("missing/dir", "nothing") // dangling: a no-op
                .opaque("fresh"));
    Path root = materialize(lower, upper).root();
    assertThat(list(root.resolve("d"))).containsExactly("new", "sub");
    assertThat(list(root.resolve("d/sub"))).containsExactly("later");
    assertThat(list(root.resolve("e"))).containsExactly("same-layer", "y");
    assertThat(root.resolve("missing")).doesNotExist();
    assertThat(root.resolve("fresh")).isDirectory();
  }

  @Test
  void committedParentsNeverChangeAndUnchangedFilesShareInodes() throws Exception {
    Path base =
        layer(
            "base",
            new TarBuilder()
                .file("rewrite", "old")
                .file("chmod-only", "same")
                .file("delete-me", "gone")
                .file("shared", "shared")
                .file("inherited", "linked to")
                .dir("dir"));
    Materialized parent = materialize(base);
    TreeSnapshot before = TreeSnapshot.of(parent.root());

    Path child =
        layer(
            "child",
            new TarBuilder()
                .file("rewrite", "new")
                .file("chmod-only", "same".getBytes(StandardCharsets.UTF_8), e -> e.setMode(0600))
                .whiteout("", "delete-me")
                .hardlink("new-name", "inherited")
                .dir("dir", 0700));
    Materialized made = materialize(base, child);

    assertThat(TreeSnapshot.of(parent.root())).isEqualTo(before);
    Path p = parent.root();
    Path c = made.root();
    assertThat(ino(c.resolve("shared"))).isEqualTo(ino(p.resolve("shared")));
    assertThat(ino(c.resolve("rewrite"))).isNotEqualTo(ino(p.resolve("rewrite")));
    assertThat(ino(c.resolve("chmod-only"))).isNotEqualTo(ino(p.resolve("chmod-only")));
    assertThat(ino(c.resolve("inherited")))
        .as("a hardlinked inherited file gets a private copy")
        .isNotEqualTo(ino(p.resolve("inherited")));
    assertThat(ino(c.resolve("new-name"))).isEqualTo(ino(c.resolve("inherited")));
    assertThat(Files.readString(c.resolve("new-name"))).isEqualTo("linked to");
    assertThat(c.resolve("delete-me")).doesNotExist();
    assertThat(p.resolve("delete-me")).exists();
    assertThat(sys.lstat(c.resolve("dir")).mode() & 07777).isEqualTo(0700);
    assertThat(sys.lstat(p.resolve("dir")).mode() & 07777).isEqualTo(0755);
  }

  @Test
  void aCommittedRootWhoseRecordIsDamagedOrGoneIsUsedAsItIsAndTheRecordWrittenAgain()
      throws Exception {
    Path base = layer("base", new TarBuilder().file("a", "a").file("d/b", "bb"));
    Path top = layer("top", new TarBuilder().file("c", "ccc"));
    Materialized made = materialize(base, top);
    Path record = made.root().resolveSibling(StoreLayout.LAYER_RECORD);
    byte[] written = Files.readAllBytes(record);
    TreeSnapshot before = TreeSnapshot.of(made.root());
    long inode = sys.lstat(made.root()).ino();

    Files.write(record, new byte[] {0, 0, 0, 0, '{'}); // what a bad block can leave
    Materialized again = materialize(base, top);
    Files.delete(record);
    Materialized found =
        store.lookup(List.of(Digest.ofFile(base), Digest.ofFile(top))); // the agent's shortcut

    for (Materialized reused : List.of(again, found)) {
      assertThat(reused.reused()).isTrue();
      assertThat(reused.chainId()).isEqualTo(made.chainId());
      assertThat(List.of(reused.files(), reused.bytes())).containsExactly(3L, 6L);
    }
    assertThat(sys.lstat(made.root()).ino())
        .as("the same root, not a rebuilt one")
        .isEqualTo(inode);
    assertThat(TreeSnapshot.of(made.root())).isEqualTo(before);
    assertThat(record).hasBinaryContent(written);
    assertThat(store.layersApplied()).as("nothing applied again").isEqualTo(2);
  }

  @Test
  void aLayerFileThatIsNotThereIsNamedOnce() throws Exception {
    Path missing = tmp.resolve("gone.tar");
    LayerSource declared = new LayerSource(missing, new Digest("0".repeat(64)), null);
    assertThatThrownBy(() -> store.materialize(List.of(declared)))
        .isInstanceOfSatisfying(
            LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.IOError))
        .hasMessage(missing + ": no such file");
  }

  @Test
  void whatStandsWhereARootBelongsWithoutARootInItGivesWayToABuiltOne() throws Exception {
    Path only = layer("only", new TarBuilder().file("f", "content"));
    Materialized made = materialize(only);
    io.strata.layout.Trees.delete(made.root()); // say, a repair moved it to lost+found
    Files.writeString(made.root().resolveSibling("left"), "debris");

    Materialized again = materialize(only);

    assertThat(again.reused()).isFalse();
    assertThat(again.root().resolve("f")).hasContent("content");
    assertThat(made.root().resolveSibling("left")).doesNotExist();
    assertThat(store.layersApplied()).isEqualTo(2);
  }

  @Test
  void chainsThatShareAPrefixShareItsRoot() throws Exception {
    Path base = layer("base", new TarBuilder().file("f", "base"));
    Path a = layer("a", new TarBuilder().file("a", "a"));
    Path b = layer("b", new TarBuilder().file("b", "b"));
    Materialized baseRoot = materialize(base);
    Materialized first = materialize(base, a);
    Materialized second = materialize(base, b);
    assertThat(first.reused()).isFalse();
    assertThat(materialize(base, a).reused()).isTrue();
    assertThat(ino(first.root().resolve("f"))).isEqualTo(ino(baseRoot.root().resolve("f")));
    assertThat(ino(second.root().resolve("f"))).isEqualTo(ino(baseRoot.root().resolve("f")));
    assertThat(ChainIds.of(second.diffIds()).getLast()).isEqualTo(second.chainId());
    try (var dirs = Files.list(tmp.resolve("state/layers"))) {
      assertThat(dirs).as("only requested tips are published").hasSize(3);
    }
  }

  @Test
  void aRootAnotherRequestNeedsIsPublishedOnTheWayAndNoOther() throws Exception {
    Path base = layer("base", new TarBuilder().file("f", "base"));
    Path a = layer("a", new TarBuilder().file("a", "a"));
    Path b = layer("b", new TarBuilder().file("b", "b"));
    Path c = layer("c", new TarBuilder().file("c", "c"));
    try (LayerStore.Interest other = store.want(digests(base, a))) {
      Materialized tip = materialize(base, a, b, c);
      assertThat(list(tmp.resolve("state/layers")))
          .as("the tip and the root the other request needs, not one per layer")
          .containsExactlyInAnyOrder(tip.chainId().hex(), chainOf(base, a).hex());
      Materialized needed = materialize(base, a);
      assertThat(needed.reused()).as("published by the longer build").isTrue();
      assertThat(list(needed.root())).containsExactly("a", "f");
      assertThat(ino(needed.root().resolve("f"))).isEqualTo(ino(tip.root().resolve("f")));
    }
    materialize(base, a, b); // nobody else asks for it now: built from (base, a), only the tip
    assertThat(list(tmp.resolve("state/layers"))).hasSize(3);
  }

  @Test
  void aDeclarationClosedTwiceIsWithdrawnOnceAndAnotherOfTheSameChainStands() throws Exception {
    Path base = layer("base", new TarBuilder().file("f", "base"));
    Path a = layer("a", new TarBuilder().file("a", "a"));
    Path b = layer("b", new TarBuilder().file("b", "b"));
    try (LayerStore.Interest standing = store.want(digests(base, a))) {
      LayerStore.Interest closedTwice = store.want(digests(base, a));
      closedTwice.close();
      closedTwice.close();
      Materialized tip = materialize(base, a, b);
      assertThat(list(tmp.resolve("state/layers")))
          .as("the root the standing declaration needs is published on the way")
          .containsExactlyInAnyOrder(tip.chainId().hex(), chainOf(base, a).hex());
    }
  }

  @Test
  void whereTwoRequestsPartTheRootTheyShareIsPublishedAndTheOtherStartsFromIt() throws Exception {
    Path base = layer("base", new TarBuilder().file("f", "base"));
    Path x = layer("x", new TarBuilder().file("x", "x"));
    Path y = layer("y", new TarBuilder().file("y", "y"));
    try (LayerStore.Interest other = store.want(digests(base, y))) {
      Materialized first = materialize(base, x);
      assertThat(list(tmp.resolve("state/layers")))
          .containsExactlyInAnyOrder(first.chainId().hex(), chainOf(base).hex());
      Materialized second = materialize(base, y);
      assertThat(second.reused()).isFalse();
      assertThat(list(second.root())).containsExactly("f", "y");
      assertThat(ino(second.root().resolve("f")))
          .as("the base was extracted once")
          .isEqualTo(ino(first.root().resolve("f")));
    }
  }

  @Test
  void concurrentRequestsSharingLayersExtractEachOnce() throws Exception {
    TarBuilder big = new TarBuilder();
    for (int i = 0; i < 2000; i++) {
      big.file("d" + i % 20 + "/f" + i, "content " + i);
    }
    Path base = layer("base", big);
    Path a = layer("a", new TarBuilder().file("a", "a"));
    Path b = layer("b", new TarBuilder().file("b", "b"));
    try (LayerStore.Interest one = store.want(digests(base, a));
        LayerStore.Interest two = store.want(digests(base, a, b));
        ExecutorService pool = Executors.newFixedThreadPool(2)) {
      CountDownLatch go = new CountDownLatch(1);
      Future<Materialized> shorter = pool.submit(() -> after(go, () -> materialize(base, a)));
      Future<Materialized> longer = pool.submit(() -> after(go, () -> materialize(base, a, b)));
      go.countDown();
      Path file = Path.of("d7/f1007");
      assertThat(ino(longer.get().root().resolve(file)))
          .as("whichever ran first, the other started from its root")
          .isEqualTo(ino(shorter.get().root().resolve(file)));
    }
    assertThat(store.layersApplied()).as("base, a and b, each extracted once").isEqualTo(3);
    assertThat(list(tmp.resolve("state/layers"))).hasSize(2);
  }

  private static <T> T after(CountDownLatch go, Callable<T> work) throws Exception {
    go.await();
    return work.call();
  }

  private static List<Digest> digests(Path... layers) throws Exception {
    List<Digest> digests = new java.util.ArrayList<>();
    for (Path layer : layers) {
      digests.add(Digest.ofFile(layer));
    }
    return digests;
  }

  /** The chain ID of plain tar layers: each one's diffID is its own digest. */
  private static Digest chainOf(Path... layers) throws Exception {
    return ChainIds.of(digests(layers)).getLast();
  }

  @Test
  void theSameTarPlainGzipAndZstdIsOneChain() throws Exception {
    Path plain = layer("plain", new TarBuilder().file("f", "content").dir("d"));
    Path gzip = tmp.resolve("layer.tar.gz");
    Path zstd = tmp.resolve("layer.tar.zst");
    run("sh", "-c", "gzip -c " + plain + " > " + gzip);
    run("zstd", "-q", "-o", zstd.toString(), plain.toString());
    Materialized fromPlain = materialize(plain);
    Materialized fromGzip = materialize(gzip);
    Materialized fromZstd = materialize(zstd);
    assertThat(fromGzip.chainId()).isEqualTo(fromPlain.chainId());
    assertThat(fromZstd.chainId()).isEqualTo(fromPlain.chainId());
    assertThat(fromGzip.reused()).isTrue();
    assertThat(fromPlain.chainId().hex()).isEqualTo(sha256sum(plain));
  }

  @Test
  void aDeclaredDigestIsCheckedEvenWhenTheRootIsAlreadyCommitted() throws Exception {
    Path file = layer("layer", new TarBuilder().file("f", "original"));
    Digest declared = Digest.of(Files.readAllBytes(file));
    List<LayerSource> chain = List.of(new LayerSource(file, declared, null));
    assertThat(store.materialize(chain).reused()).isFalse();
    new TarBuilder().file("f", "swapped").write(file);
    assertThatThrownBy(() -> store.materialize(chain))
        .isInstanceOfSatisfying(
            LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.DigestMismatch));
  }

  @Test
  void aDiffIdTheLayerDoesNotUnpackToIsRefusedWhetherOrNotItsRootIsBuilt() throws Exception {
    Path file = layer("layer", new TarBuilder().file("f", "content"));
    Digest actual = Digest.of(Files.readAllBytes(file)); // a plain tar is its own diffID
    Digest listed = Digest.of("another tar".getBytes(StandardCharsets.UTF_8));
    List<LayerSource> lying = List.of(new LayerSource(file, null, null, listed));
    assertThatThrownBy(() -> store.materialize(lying))
        .isInstanceOfSatisfying(
            LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.DigestMismatch))
        .hasMessageContaining("unpacks to diffID " + actual)
        .hasMessageContaining("lists " + listed);
    assertThat(tmp.resolve("state/layers")).isEmptyDirectory();

    Materialized made = store.materialize(List.of(new LayerSource(file, null, null, actual)));
    assertThat(made.chainId()).isEqualTo(actual);
    assertThatThrownBy(() -> store.materialize(lying)) // now from what was recorded at the build
        .isInstanceOfSatisfying(
            LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.DigestMismatch))
        .hasMessageContaining("lists " + listed);
  }

  @Test
  void aDiffIdRecordAPowerCutLeftEmptyOrTornIsRewrittenNotFatal() throws Exception {
    Path file = layer("layer", new TarBuilder().file("f", "content"));
    Digest blob = Digest.of(Files.readAllBytes(file));
    List<LayerSource> chain = List.of(new LayerSource(file, blob, null));
    Materialized first = store.materialize(chain);
    Path record = tmp.resolve("state/diffids/sha256").resolve(blob.hex());
    assertThat(record).hasContent(first.chainId().toString());

    for (String left : List.of("", "sha256:" + "0".repeat(17))) {
      Files.writeString(record, left);
      Materialized again = store.materialize(chain);
      assertThat(again.chainId()).as("after %s", left).isEqualTo(first.chainId());
      assertThat(again.root()).isEqualTo(first.root());
      assertThat(record).hasContent(first.chainId().toString());
    }
  }

  @Test
  void aMediaTypeThatLiesIsRefused() throws Exception {
    Path plain = layer("plain", new TarBuilder().file("f", "content"));
    assertThatThrownBy(
            () ->
                store.materialize(
                    List.of(
                        new LayerSource(
                            plain, null, "application/vnd.oci.image.layer.v1.tar+zstd"))))
        .isInstanceOfSatisfying(
            LayerException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.UnsupportedMediaType));
  }

  @Test
  void duplicatesReplaceAndNeverWriteThroughASymlink() throws Exception {
    Path outside = Files.writeString(tmp.resolve("outside"), "untouched");
    Path layer =
        layer(
            "dups",
            new TarBuilder()
                .file("x", "file first")
                .dir("x") // file then dir
                .file("x/in", "in")
                .dir("y")
                .file("y/in", "in")
                .file("y", "dir then file")
                .symlink("z", outside.toString())
                .file("z", "replaces the symlink")
                .file("twice", "one")
                .file("twice", "two"));
    Path root = materialize(layer).root();
    assertThat(Files.readString(root.resolve("x/in"))).isEqualTo("in");
    assertThat(Files.readString(root.resolve("y"))).isEqualTo("dir then file");
    assertThat(Files.readString(root.resolve("z"))).isEqualTo("replaces the symlink");
    assertThat(Files.readString(root.resolve("twice"))).isEqualTo("two");
    assertThat(Files.readString(outside)).isEqualTo("untouched");
  }

  @Test
  void aFileAtTheLinkLimitIsCopiedInstead() throws Exception {
    TarBuilder tar = new TarBuilder().file("target", "many names");
    for (int i = 0; i < 65_010; i++) {
      tar.hardlink("l/" + i, "target");
    }
    Path root = materialize(layer("links", tar)).root();
    assertThat(Files.readString(root.resolve("l/65009"))).isEqualTo("many names");
    assertThat(ino(root.resolve("l/65009"))).isNotEqualTo(ino(root.resolve("target")));
  }

  @Test
  void sparseFilesInEveryGnuTarEncodingLandWithTheirHoles() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("sparse-src"));
    Path file = dir.resolve("disk.img");
    // 400 regions of 4 KiB at odd offsets with holes between, and a tail at the very end: 1.6 MB
    // of data, so regions straddle the reading thread's chunks and the readers' buffers.
    try (var channel =
        java.nio.channels.FileChannel.open(
            file,
            java.nio.file.StandardOpenOption.CREATE,
            java.nio.file.StandardOpenOption.WRITE)) {
      byte[] region = new byte[4096];
      Arrays.fill(region, (byte) 'x');
      for (int i = 0; i < 400; i++) {
        region[0] = (byte) i;
        channel.write(java.nio.ByteBuffer.wrap(region), i * 40_000L + 1);
      }
      channel.write(
          java.nio.ByteBuffer.wrap("tail".getBytes(StandardCharsets.US_ASCII)), (16 << 20) - 4);
    }
    String expected = sha256sum(file);
    // GNU tar's old sparse type 'S', and the three PAX sparse formats (1.0 keeps its map in data).
    List<List<String>> encodings =
        List.of(
            List.of("--format=gnu"),
            List.of("--format=pax", "--sparse-version=0.0"),
            List.of("--format=pax", "--sparse-version=0.1"),
            List.of("--format=pax", "--sparse-version=1.0"));
    for (List<String> encoding : encodings) {
      Path tar = tmp.resolve("sparse-" + String.join("", encoding).replaceAll("\\W", "") + ".tar");
      List<String> command = new java.util.ArrayList<>(List.of("tar", "--sparse"));
      command.addAll(encoding);
      command.addAll(List.of("-cf", tar.toString(), "-C", dir.toString(), "disk.img"));
      run(command.toArray(String[]::new));
      run("gzip", "-k", tar.toString()); // decompressed on the reading thread, in chunks
      Path landed = materialize(Path.of(tar + ".gz")).root().resolve("disk.img");
      assertThat(sha256sum(landed)).as("content from %s", encoding).isEqualTo(expected);
      assertThat(Files.size(landed)).isEqualTo(16 << 20);
      assertThat(allocatedBytes(landed)).as("allocated from %s", encoding).isLessThan(4 << 20);
    }
  }

  private static long allocatedBytes(Path file) throws Exception {
    Process p = new ProcessBuilder("stat", "-c", "%b %B", file.toString()).start();
    String[] out =
        new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).split("\\s+");
    assertThat(p.waitFor()).isZero();
    return Long.parseLong(out[0]) * Long.parseLong(out[1]);
  }

  private long ino(Path p) throws Exception {
    return sys.lstat(p).ino();
  }

  private static List<String> list(Path dir) throws Exception {
    try (var s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static void run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).inheritIO().start();
    assertThat(p.waitFor()).as(Arrays.toString(command)).isZero();
  }

  private static String sha256sum(Path file) throws Exception {
    Process p = new ProcessBuilder("sha256sum", file.toString()).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    p.waitFor();
    return out.split(" ")[0];
  }
}
