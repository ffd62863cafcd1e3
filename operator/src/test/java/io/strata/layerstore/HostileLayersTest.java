package io.strata.layerstore;

import static io.strata.testing.TarBuilder.pax;
import static io.strata.testing.TarBuilder.paxHeader;
import static io.strata.testing.TarBuilder.paxRecord;
import static io.strata.testing.TarBuilder.raw;
import static io.strata.testing.TarBuilder.rawHeader;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.layerstore.LayerStore.LayerSource;
import io.strata.layout.StoreLayout;
import io.strata.oci.Digest;
import io.strata.sys.Syscalls;
import io.strata.tarapply.LayerException;
import io.strata.tarapply.LayerException.Reason;
import io.strata.tarapply.Limits;
import io.strata.testing.Canaries;
import io.strata.testing.TarBuilder;
import io.strata.testing.Tools;
import io.strata.testing.TreeSnapshot;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.archivers.tar.TarUtils;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Archives that attack the agent, each named after what it attacks (after containerd's
 * TestBreakouts and HOSTILE-INPUTS.md). Every one ends refused with its typed reason or contained
 * inside the root, and always: canary files outside the cache are untouched, the committed parent
 * is unchanged, staging is empty, and a good layer still materializes afterwards.
 */
class HostileLayersTest {
  @TempDir Path tmp;
  private final Canaries canaries = new Canaries();
  private Path canary;

  /** What a case builds: the layer file to put on top of the base. */
  interface Layer {
    Path make(Path dir, String canary) throws Exception;
  }

  /** Checks a contained case's root. */
  interface Contained {
    void check(Path root, String canary) throws Exception;
  }

  @BeforeEach
  void plantCanaries() throws Exception {
    Tools.requireRoot("owners, devices and xattrs need root");
    canary = canaries.plant(tmp.resolve("canary"));
  }

  static Stream<Arguments> refused() {
    List<Arguments> cases = new ArrayList<>();
    add(
        cases,
        "dotdot name",
        Reason.PathEscape,
        (d, c) -> tar(d, new TarBuilder().file("../x", "x")));
    add(
        cases,
        "dotdot inside name",
        Reason.PathEscape,
        (d, c) -> tar(d, new TarBuilder().file("a/../../x", "x")));
    add(cases, "bare dotdot", Reason.PathEscape, (d, c) -> tar(d, new TarBuilder().dir("..")));
    add(
        cases,
        "control character",
        Reason.InvalidName,
        (d, c) -> tar(d, new TarBuilder().file("a\u0001b", "x")));
    add(
        cases,
        "NUL in PAX path",
        Reason.InvalidName,
        (d, c) ->
            rawTar(
                d,
                paxHeader(paxRecord("path", "a\u0000b")),
                rawHeader("a", TarConstants.LF_NORMAL, 0)));
    add(
        cases,
        "component over 255 bytes",
        Reason.InvalidName,
        (d, c) -> tar(d, new TarBuilder().file("a/" + "x".repeat(256), "x")));
    add(
        cases,
        "path over 4096 bytes",
        Reason.InvalidName,
        (d, c) -> tar(d, new TarBuilder().file("d/".repeat(2100) + "f", "x")));
    add(
        cases,
        "path within 4096 bytes, too long under the cache's own path",
        Reason.InvalidName,
        (d, c) -> tar(d, new TarBuilder().file(("n".repeat(200) + "/").repeat(20) + "f", "x")));
    add(
        cases,
        "symlink target of 4096 bytes",
        Reason.InvalidName,
        (d, c) -> tar(d, new TarBuilder().symlink("l", "t".repeat(4096))));
    add(
        cases,
        "10,000 nested directories",
        Reason.InvalidName,
        (d, c) -> tar(d, new TarBuilder().file("d/".repeat(10_000) + "f", "x")));
    add(
        cases,
        "root as a symlink to /",
        Reason.PathEscape,
        (d, c) -> tar(d, new TarBuilder().symlink(".", "/")));
    add(
        cases,
        "root as a symlink elsewhere",
        Reason.PathEscape,
        (d, c) -> tar(d, new TarBuilder().symlink("./", c)));
    add(
        cases,
        "hardlink climbing out",
        Reason.PathEscape,
        (d, c) -> tar(d, new TarBuilder().hardlink("h", "../../outside")));
    add(
        cases,
        "hardlink to a later entry",
        Reason.InvalidLink,
        (d, c) -> tar(d, new TarBuilder().hardlink("h", "later").file("later", "x")));
    add(
        cases,
        "hardlink to a missing entry",
        Reason.InvalidLink,
        (d, c) -> tar(d, new TarBuilder().hardlink("h", "nowhere")));
    add(
        cases,
        "hardlink to a directory",
        Reason.InvalidLink,
        (d, c) -> tar(d, new TarBuilder().dir("dir").hardlink("h", "dir")));
    add(
        cases,
        "hardlink beneath a regular file",
        Reason.NotADirectory,
        (d, c) -> tar(d, new TarBuilder().file("f", "x").hardlink("h", "f/g")));
    add(
        cases,
        "entry beneath a regular file",
        Reason.NotADirectory,
        (d, c) -> tar(d, new TarBuilder().file("f", "x").file("f/g", "y")));
    add(
        cases,
        "hardlink through a symlinked dir to a host file",
        Reason.InvalidLink,
        (d, c) -> tar(d, new TarBuilder().symlink("l", c).hardlink("h", "l/secret")));
    add(
        cases,
        "whiteout .wh..",
        Reason.InvalidWhiteout,
        (d, c) -> tar(d, new TarBuilder().file("a/.wh..", "")));
    add(
        cases,
        "whiteout .wh...",
        Reason.InvalidWhiteout,
        (d, c) -> tar(d, new TarBuilder().file("a/.wh...", "")));
    add(
        cases,
        "bare .wh.",
        Reason.InvalidWhiteout,
        (d, c) -> tar(d, new TarBuilder().file(".wh.", "")));
    add(
        cases,
        "directory named .wh.x",
        Reason.InvalidWhiteout,
        (d, c) -> tar(d, new TarBuilder().dir(".wh.x")));
    add(
        cases,
        "whiteout name as a parent",
        Reason.InvalidWhiteout,
        (d, c) -> tar(d, new TarBuilder().file("a/.wh.b/c", "x")));
    add(
        cases,
        "whiteout with content",
        Reason.InvalidWhiteout,
        (d, c) -> tar(d, new TarBuilder().file(".wh.x", "data")));
    add(
        cases,
        "char device 0:0",
        Reason.InvalidDevice,
        (d, c) -> tar(d, new TarBuilder().charDevice("wh", 0, 0)));
    add(
        cases,
        "device major over 12 bits",
        Reason.InvalidDevice,
        (d, c) -> tar(d, new TarBuilder().charDevice("dev", 4096, 1)));
    add(
        cases,
        "device minor over 20 bits",
        Reason.InvalidDevice,
        (d, c) -> tar(d, new TarBuilder().charDevice("dev", 1, 1 << 20)));
    add(
        cases,
        "xattr named user. alone",
        Reason.InvalidHeader,
        (d, c) -> fileWithPax(d, Map.of("SCHILY.xattr.user.", "v")));
    add(
        cases,
        "xattr name over 255 bytes",
        Reason.InvalidHeader,
        (d, c) -> fileWithPax(d, Map.of("SCHILY.xattr.user." + "n".repeat(251), "v")));
    add(
        cases,
        "xattr name with a NUL",
        Reason.InvalidHeader,
        (d, c) -> fileWithPax(d, Map.of("SCHILY.xattr.user.a\u0000b", "v")));
    add(
        cases,
        "malformed security.capability",
        Reason.InvalidHeader,
        (d, c) -> fileWithPax(d, Map.of("SCHILY.xattr.security.capability", "garbage")));
    add(
        cases,
        "trusted.overlay.opaque xattr",
        Reason.ForbiddenXattr,
        (d, c) -> fileWithPax(d, Map.of("SCHILY.xattr.trusted.overlay.opaque", "y")));
    add(
        cases,
        "trusted.overlay.redirect xattr",
        Reason.ForbiddenXattr,
        (d, c) ->
            tar(
                d,
                new TarBuilder()
                    .dir("d")
                    .entry(
                        "d/",
                        TarConstants.LF_DIR,
                        null,
                        pax(Map.of("SCHILY.xattr.trusted.overlay.redirect", "/etc")))));
    add(
        cases,
        "10,000 xattrs",
        Reason.SizeLimit,
        (d, c) -> {
          Map<String, String> many = new HashMap<>();
          for (int i = 0; i < 10_000; i++) {
            many.put("SCHILY.xattr.user.x" + i, "v");
          }
          return fileWithPax(d, many);
        });
    add(
        cases,
        "1 MiB xattr value",
        Reason.SizeLimit,
        (d, c) -> fileWithPax(d, Map.of("SCHILY.xattr.user.big", "v".repeat(1 << 20))));
    add(
        cases,
        "uid 2^32",
        Reason.InvalidHeader,
        (d, c) -> fileWithPax(d, Map.of("uid", "4294967296")));
    add(
        cases,
        "uid -1",
        Reason.InvalidHeader,
        (d, c) ->
            rawTar(
                d, paxHeader(paxRecord("uid", "-1")), rawHeader("f", TarConstants.LF_NORMAL, 0)));
    add(
        cases,
        "uid 2^63",
        Reason.InvalidHeader,
        (d, c) ->
            rawTar(
                d,
                paxHeader(paxRecord("uid", "9223372036854775808")),
                rawHeader("f", TarConstants.LF_NORMAL, 0)));
    add(
        cases,
        "data shorter than its size",
        Reason.Truncated,
        (d, c) -> {
          byte[] header = rawHeader("f", TarConstants.LF_NORMAL, 1000);
          byte[] bytes = new byte[512 + 100];
          System.arraycopy(header, 0, bytes, 0, 512);
          return Files.write(d.resolve("short.tar"), bytes);
        });
    add(
        cases,
        "PAX size disagreeing with ustar size",
        Reason.AmbiguousHeader,
        (d, c) ->
            rawTar(
                d,
                paxHeader(paxRecord("size", "5")),
                rawHeader("f", TarConstants.LF_NORMAL, 10),
                new byte[10]));
    add(
        cases,
        "old GNU sparse extension flag under a POSIX magic",
        Reason.AmbiguousHeader,
        (d, c) -> {
          // The guard honours byte 482 ("extension blocks follow") of every 'S' header; Commons
          // Compress reads it only under GNU's magic, so the two would split the stream apart.
          byte[] header = rawHeader("f", TarConstants.LF_GNUTYPE_SPARSE, 512);
          header[482] = 1;
          TarUtils.formatCheckSumOctalBytes(
              TarUtils.computeCheckSum(blank(header, 148, 8)), header, 148, 8);
          return rawTar(d, header, new byte[512]);
        });
    add(
        cases,
        "PAX header then GNU long name",
        Reason.AmbiguousHeader,
        (d, c) ->
            rawTar(
                d,
                paxHeader(paxRecord("path", "a")),
                rawHeader("././@LongLink", TarConstants.LF_GNUTYPE_LONGNAME, 2),
                "b\0".getBytes(StandardCharsets.UTF_8),
                rawHeader("f", TarConstants.LF_NORMAL, 0)));
    add(
        cases,
        "global header setting a path",
        Reason.AmbiguousHeader,
        (d, c) ->
            rawTar(
                d,
                rawHeader(
                    "GlobalHead",
                    TarConstants.LF_PAX_GLOBAL_EXTENDED_HEADER,
                    paxRecord("path", "evil").length),
                paxRecord("path", "evil"),
                rawHeader("f", TarConstants.LF_NORMAL, 0)));
    add(
        cases,
        "duplicate PAX keys",
        Reason.AmbiguousHeader,
        (d, c) -> {
          return rawTar(
              d,
              paxHeader(paxRecord("path", "a"), paxRecord("path", "b")),
              rawHeader("f", TarConstants.LF_NORMAL, 0));
        });
    add(
        cases,
        "100 MB PAX header",
        Reason.SizeLimit,
        (d, c) ->
            Files.write(
                d.resolve("huge-pax.tar"),
                rawHeader("PaxHeaders/f", TarConstants.LF_PAX_EXTENDED_HEADER_LC, 100_000_000)));
    add(
        cases,
        "directory declaring data",
        Reason.InvalidHeader,
        (d, c) -> rawTar(d, rawHeader("dir/", TarConstants.LF_DIR, 512), new byte[512]));
    add(
        cases,
        "bad header checksum",
        Reason.InvalidHeader,
        (d, c) -> {
          byte[] bytes = new TarBuilder().file("f", "x").bytes();
          bytes[0] = 'g';
          return Files.write(d.resolve("checksum.tar"), bytes);
        });
    add(
        cases,
        "checksum field that is not a number (found by LayerFuzzTest)",
        Reason.InvalidHeader,
        (d, c) -> {
          byte[] bytes = new TarBuilder().file("f", "x").bytes();
          bytes[148] = 1; // the checksum field: octal digits, a NUL and a space
          return Files.write(d.resolve("checksum-field.tar"), bytes);
        });
    add(
        cases,
        "zstd window over 128 MiB",
        Reason.SizeLimit,
        (d, c) -> {
          Path plain = tar(d, new TarBuilder().file("f", "x"));
          Path zst = d.resolve("wide.tar.zst");
          exec("sh", "-c", "cat " + plain + " | zstd -q --long=31 -c > " + zst);
          return zst;
        });
    add(
        cases,
        "truncated gzip",
        Reason.Truncated,
        (d, c) -> {
          Path gz =
              new TarBuilder().file("f", "y".repeat(100_000)).writeGzip(d.resolve("t.tar.gz"));
          byte[] bytes = Files.readAllBytes(gz);
          return Files.write(gz, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        });
    add(
        cases,
        "garbage after the tar",
        Reason.TrailingGarbage,
        (d, c) ->
            Files.write(
                d.resolve("g.tar"),
                concat(
                    new TarBuilder().file("f", "x").bytes(),
                    "garbage".getBytes(StandardCharsets.UTF_8))));
    add(
        cases,
        "garbage after the gzip stream",
        Reason.TrailingGarbage,
        (d, c) -> {
          Path gz = new TarBuilder().file("f", "x").writeGzip(d.resolve("g.tar.gz"));
          return Files.write(
              gz, concat(Files.readAllBytes(gz), "garbage!".getBytes(StandardCharsets.UTF_8)));
        });
    add(
        cases,
        "no end-of-archive block",
        Reason.Truncated,
        (d, c) -> {
          byte[] bytes = new TarBuilder().file("f", "x").bytes();
          return Files.write(d.resolve("noend.tar"), java.util.Arrays.copyOf(bytes, 1024));
        });
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refused")
  void hostileLayersAreRefusedAndChangeNothing(String attack, Reason reason, Layer layer)
      throws Exception {
    Fixture f = new Fixture(tmp, canaries, Limits.DEFAULT);
    Path evil = layer.make(Files.createDirectories(tmp.resolve("layers")), canary.toString());
    assertThatThrownBy(() -> f.onTopOfBase(evil))
        .as(attack)
        .isInstanceOfSatisfying(
            LayerException.class, e -> assertThat(e.reason()).as(e.getMessage()).isEqualTo(reason))
        .hasMessageStartingWith(evil.toString()); // which layer of a chain, then what in it
    f.assertNothingChanged(canary);
  }

  static Stream<Arguments> contained() {
    List<Arguments> cases = new ArrayList<>();
    contain(
        cases,
        "absolute name",
        (d, c) -> tar(d, new TarBuilder().file("/etc/x", "in")),
        (root, c) -> assertThat(Files.readString(root.resolve("etc/x"))).isEqualTo("in"));
    contain(
        cases,
        "dot-slash name",
        (d, c) -> tar(d, new TarBuilder().file("./a", "in")),
        (root, c) -> assertThat(root.resolve("a")).exists());
    contain(
        cases,
        "symlink parent to an absolute host dir",
        (d, c) -> tar(d, new TarBuilder().symlink("l", c).file("l/pwned", "in")),
        (root, c) -> assertThat(root.resolve(c.substring(1)).resolve("pwned")).exists());
    contain(
        cases,
        "symlink parent climbing with ..",
        (d, c) ->
            tar(
                d,
                new TarBuilder()
                    .symlink("l", "../".repeat(30) + c.substring(1))
                    .file("l/pwned", "in")),
        (root, c) -> assertThat(root.resolve(c.substring(1)).resolve("pwned")).exists());
    contain(
        cases,
        "chained symlinks through .. and /",
        (d, c) ->
            tar(
                d,
                new TarBuilder()
                    .symlink("a", "b/../../c")
                    .symlink("c", "/" + c.substring(1))
                    .file("a/pwned", "in")),
        (root, c) -> assertThat(root.resolve(c.substring(1)).resolve("pwned")).exists());
    contain(
        cases,
        "directory swapped for a symlink mid-archive",
        (d, c) ->
            tar(d, new TarBuilder().dir("d").file("d/f", "in").symlink("d", c).file("d/g", "in")),
        (root, c) -> assertThat(root.resolve(c.substring(1)).resolve("g")).exists());
    contain(
        cases,
        "/proc/self/root magic link",
        (d, c) -> tar(d, new TarBuilder().symlink("m", "/proc/self/root" + c).file("m/x", "in")),
        (root, c) -> assertThat(root.resolve("proc/self/root" + c).resolve("x")).exists());
    contain(
        cases,
        "hardlink with an absolute target",
        (d, c) -> tar(d, new TarBuilder().file("etc/passwd", "root").hardlink("h", "/etc/passwd")),
        (root, c) -> assertThat(Files.readString(root.resolve("h"))).isEqualTo("root"));
    contain(
        cases,
        "hardlink to a symlink, then a rewrite",
        (d, c) ->
            tar(
                d,
                new TarBuilder()
                    .symlink("s", c + "/secret")
                    .hardlink("h", "s")
                    .file("h", "x".getBytes(StandardCharsets.UTF_8), e -> e.setMode(0777))),
        (root, c) -> assertThat(Files.readString(root.resolve("h"))).isEqualTo("x"));
    contain(
        cases,
        "whiteout through a symlinked dir",
        (d, c) -> tar(d, new TarBuilder().symlink("l", c).whiteout("l", "secret")),
        (root, c) -> assertThat(root.resolve("l")).isSymbolicLink());
    contain(
        cases,
        "whiteout with a dangling parent",
        (d, c) -> tar(d, new TarBuilder().whiteout("no/such/dir", "x")),
        (root, c) -> assertThat(root.resolve("no")).doesNotExist());
    contain(
        cases,
        "opaque marker at the root",
        (d, c) -> tar(d, new TarBuilder().opaque("").file("only", "x")),
        (root, c) -> assertThat(list(root)).containsExactly("only"));
    contain(
        cases,
        "mode with file-type bits",
        (d, c) ->
            tar(
                d,
                new TarBuilder()
                    .file("f", "x".getBytes(StandardCharsets.UTF_8), e -> e.setMode(0170777))),
        (root, c) ->
            assertThat(Syscalls.get().lstat(root.resolve("f")).mode() & 07777).isEqualTo(0777));
    contain(
        cases,
        "mtime far in the future",
        (d, c) -> fileWithPax(d, Map.of("mtime", "99999999999999")),
        (root, c) ->
            assertThat(Syscalls.get().lstat(root.resolve("f")).mtimeSeconds())
                .isEqualTo(2_147_483_647L));
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("contained")
  void containedLayersLandInsideTheRoot(String attack, Layer layer, Contained check)
      throws Exception {
    Fixture f = new Fixture(tmp, canaries, Limits.DEFAULT);
    Path built =
        f.onTopOfBase(
            layer.make(Files.createDirectories(tmp.resolve("layers")), canary.toString()));
    check.check(built, canary.toString());
    f.assertNothingChanged(canary);
  }

  @org.junit.jupiter.api.Test
  void compressionBombsAndEntryFloodsStopAtTheirLimits() throws Exception {
    Path layers = Files.createDirectories(tmp.resolve("layers"));
    Path bomb =
        new TarBuilder()
            .file("zeros", new byte[20 << 20], e -> {})
            .writeGzip(layers.resolve("bomb.tar.gz"));
    Fixture small = new Fixture(tmp, canaries, Limits.DEFAULT.withMaxUncompressedBytes(1 << 20));
    assertThatThrownBy(() -> small.onTopOfBase(bomb))
        .isInstanceOfSatisfying(
            LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.SizeLimit));
    small.assertNothingChanged(canary);

    TarBuilder flood = new TarBuilder();
    for (int i = 0; i < 101; i++) {
      flood.file("f" + i, "");
    }
    Path many = flood.write(layers.resolve("flood.tar"));
    Fixture few = new Fixture(tmp, canaries, Limits.DEFAULT.withMaxEntries(100));
    assertThatThrownBy(() -> few.onTopOfBase(many))
        .isInstanceOfSatisfying(
            LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.SizeLimit));
    few.assertNothingChanged(canary);
  }

  @org.junit.jupiter.api.Test
  void sparseMapsOverTheRegionLimitStopBeforeCommonsCompressHoldsThem() throws Exception {
    // 2,000 one-byte regions 8 KiB apart, tarred by GNU tar with its map in extension blocks
    // (old GNU) and in the entry's data (PAX 1.0): each region would cost the reader objects.
    Path src = Files.createDirectories(tmp.resolve("sparse-src"));
    try (var file =
        java.nio.channels.FileChannel.open(
            src.resolve("holes"),
            java.nio.file.StandardOpenOption.CREATE,
            java.nio.file.StandardOpenOption.WRITE)) {
      for (int i = 0; i < 2_000; i++) {
        file.write(java.nio.ByteBuffer.wrap(new byte[] {'x'}), i * 8192L);
      }
    }
    Fixture tight = new Fixture(tmp, canaries, Limits.DEFAULT.withMaxSparseRegions(1_000));
    for (String format : List.of("--format=gnu", "--format=pax")) {
      Path tar = tmp.resolve("holes" + format.substring(9) + ".tar");
      exec("tar", "--sparse", format, "-cf", tar.toString(), "-C", src.toString(), "holes");
      assertThatThrownBy(() -> tight.onTopOfBase(tar))
          .as(format)
          .isInstanceOfSatisfying(
              LayerException.class,
              e -> {
                assertThat(e.reason()).isEqualTo(Reason.SizeLimit);
                assertThat(e.getMessage()).contains("holes", "1000 regions");
              });
      tight.assertNothingChanged(canary);
      // Under the default limit the same archive lands, holes and all.
      LayerStore roomy =
          new LayerStore(
              new StoreLayout(tmp.resolve("roomy" + format.substring(9))),
              Syscalls.get(),
              Limits.DEFAULT);
      Path landed = roomy.materialize(List.of(new LayerSource(tar, null, null))).root();
      assertThat(Files.size(landed.resolve("holes"))).isEqualTo(1_999 * 8192L + 1);
    }
  }

  @org.junit.jupiter.api.Test
  void aLayerThatWouldFillTheDiskOrEatItsReserveStopsWithNoSpace() throws Exception {
    // 128 MiB of non-zero bytes: sparse holes would not fill anything
    java.util.Random random = new java.util.Random(7);
    TarBuilder dense = new TarBuilder();
    for (int i = 0; i < 8; i++) {
      byte[] data = new byte[16 << 20];
      random.nextBytes(data);
      dense.file("chunk" + i, data, e -> e.setMode(0644));
    }
    Path denseLayer = dense.write(tmp.resolve("dense.tar"));
    Path full = ext4("full", "64M"); // the disk fills
    Path tight = ext4("tight", "320M"); // it fits, but leaves less than the store keeps free
    List<LayerSource> layer = List.of(new LayerSource(denseLayer, null, null));
    try {
      assertThatThrownBy(() -> storeOn(full).materialize(layer))
          .isInstanceOfSatisfying(
              LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.NoSpace));
      assertNothingHalfBuilt(full);
      assertThatThrownBy(() -> storeOn(tight).materialize(layer))
          .isInstanceOfSatisfying(
              LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.NoSpace))
          .hasMessageContaining("the cache filesystem is nearly full at entry chunk");
      assertNothingHalfBuilt(tight);
    } finally {
      exec("umount", full.toString());
      exec("umount", tight.toString());
    }
  }

  @org.junit.jupiter.api.Test
  void aBombOfEmptyFilesStopsWhileTheNodeStillHasInodes() throws Exception {
    // About 20,000 inodes and plenty of bytes: 12,000 empty files would fit, but would leave the
    // node fewer than the 16,384 inodes the store keeps free for everything else on it.
    Path small = ext4("inodes", "1G", "-N", "20000");
    try {
      TarBuilder empties = new TarBuilder();
      for (int i = 0; i < 12_000; i++) {
        empties.file("e" + i, "");
      }
      Path layer = empties.write(tmp.resolve("empties.tar"));
      LayerStore store = storeOn(small);
      long freeBefore = Syscalls.get().statfs(small).freeFiles();
      assertThatThrownBy(() -> store.materialize(List.of(new LayerSource(layer, null, null))))
          .isInstanceOfSatisfying(
              LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.NoSpace))
          .hasMessageContaining("the cache filesystem is nearly full at entry e")
          .hasMessageContaining("inodes free");
      assertNothingHalfBuilt(small);
      assertThat(small.resolve("state/layers")).isEmptyDirectory();
      // The thousands of files made before the stop went with the build: the inodes are back,
      // but for the store's own few directories and lock.
      assertThat(Syscalls.get().statfs(small).freeFiles()).isGreaterThan(freeBefore - 10);
    } finally {
      exec("umount", small.toString());
    }
  }

  @org.junit.jupiter.api.Test
  void xattrsBeyondWhatExt4KeepsPerFileAreASizeLimitNotAFullDisk() throws Exception {
    Path small = ext4("xattrs", "1G"); // above the 256 MiB the store keeps free
    try {
      // Two values of 3,000 bytes: within Strata's bounds, beyond the one block ext4 gives them.
      String value = "v".repeat(3_000);
      Path layer =
          fileWithPax(
              Files.createDirectories(tmp.resolve("layers")),
              Map.of("SCHILY.xattr.user.a", value, "SCHILY.xattr.user.b", value));
      LayerStore store = storeOn(small);
      assertThatThrownBy(() -> store.materialize(List.of(new LayerSource(layer, null, null))))
          .isInstanceOfSatisfying(
              LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.SizeLimit))
          .hasMessageContaining("the xattrs of f do not fit");
      assertNothingHalfBuilt(small);
      assertThat(small.resolve("state/layers")).isEmptyDirectory();
    } finally {
      exec("umount", small.toString());
    }
  }

  /** The staging area of the store on {@code filesystem} holds no build, only build locks. */
  private static void assertNothingHalfBuilt(Path filesystem) throws Exception {
    try (var left = Files.list(filesystem.resolve("state/staging"))) {
      assertThat(left.filter(p -> !p.toString().endsWith(".lock"))).isEmpty();
    }
  }

  private LayerStore storeOn(Path filesystem) {
    return new LayerStore(
        new StoreLayout(filesystem.resolve("state")), Syscalls.get(), Limits.DEFAULT);
  }

  /** An ext4 of its own, so its limits are ext4's and nothing else is at risk. */
  private Path ext4(String name, String size, String... mkfsOptions) throws Exception {
    Path image = tmp.resolve(name + ".img");
    Path mounted = Files.createDirectories(tmp.resolve(name));
    exec("truncate", "-s", size, image.toString());
    List<String> mkfs = new ArrayList<>(List.of("mkfs.ext4", "-q", "-F"));
    mkfs.addAll(List.of(mkfsOptions));
    mkfs.add(image.toString());
    exec(mkfs.toArray(String[]::new));
    exec("mount", "-o", "loop", image.toString(), mounted.toString());
    return mounted;
  }

  @org.junit.jupiter.api.Test
  void aNameBeneathAFileIsRefusedNamingTheFileAndTheEntry() throws Exception {
    Fixture f = new Fixture(tmp, canaries, Limits.DEFAULT);
    Path layers = Files.createDirectories(tmp.resolve("layers"));
    // etc/hostname is a file the base layer made.
    Path beneath = tar(layers, new TarBuilder().file("etc/hostname/x", "y"));
    assertThatThrownBy(() -> f.onTopOfBase(beneath))
        .isInstanceOfSatisfying(
            LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.NotADirectory))
        .hasMessage(
            beneath + ": etc/hostname is not a directory, but etc/hostname/x lies beneath it");
    Path link = tar(layers, new TarBuilder().hardlink("h", "etc/hostname/x"));
    assertThatThrownBy(() -> f.onTopOfBase(link))
        .isInstanceOfSatisfying(
            LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.NotADirectory))
        .hasMessage(
            link
                + ": etc/hostname is not a directory, but the target of hardlink h lies beneath it");
    f.assertNothingChanged(canary);
  }

  @org.junit.jupiter.api.Test
  void aDigestMismatchCommitsNothing() throws Exception {
    Fixture f = new Fixture(tmp, canaries, Limits.DEFAULT);
    Path layer =
        tar(Files.createDirectories(tmp.resolve("layers")), new TarBuilder().file("f", "x"));
    Digest wrong = new Digest("0".repeat(64));
    assertThatThrownBy(
            () -> f.store.materialize(List.of(f.baseSource(), new LayerSource(layer, wrong, null))))
        .isInstanceOfSatisfying(
            LayerException.class, e -> assertThat(e.reason()).isEqualTo(Reason.DigestMismatch))
        .hasMessageContaining(wrong.toString());
    f.assertNothingChanged(canary);
  }

  /** A store with a committed base root, and the checks every case ends with. */
  private static final class Fixture {
    final LayerStore store;
    final Path state;
    final Path base;
    final Path baseRoot;
    final TreeSnapshot baseBefore;
    final Canaries canaries;

    /**
     * Besides the canary outside the state dir, plants one in the mount base and one in the state
     * dir beside the cache's own directories, and watches the committed parent.
     */
    Fixture(Path tmp, Canaries canaries, Limits limits) throws Exception {
      this.canaries = canaries;
      state = tmp.resolve("state");
      store = new LayerStore(new StoreLayout(state), Syscalls.get(), limits);
      base =
          new TarBuilder()
              .dir("etc")
              .file("etc/hostname", "base")
              .file("bin/tool", "tool")
              .write(tmp.resolve("base.tar"));
      baseRoot = store.materialize(List.of(baseSource())).root();
      baseBefore = TreeSnapshot.of(baseRoot);
      for (Path more : List.of(tmp.resolve("mnt/canary"), state.resolve("canary"))) {
        if (!Files.exists(more)) {
          canaries.plant(more);
        }
      }
      canaries.watchCommittedRoot(baseRoot);
    }

    LayerSource baseSource() {
      return new LayerSource(base, null, null);
    }

    Path onTopOfBase(Path layer) throws Exception {
      return store.materialize(List.of(baseSource(), new LayerSource(layer, null, null))).root();
    }

    void assertNothingChanged(Path canary) throws Exception {
      canaries.assertUntouched();
      assertThat(TreeSnapshot.of(baseRoot)).as("the committed parent").isEqualTo(baseBefore);
      try (var left = Files.list(state.resolve("staging"))) {
        assertThat(left.filter(p -> !p.toString().endsWith(".lock"))).as("staging").isEmpty();
      }
      Path good =
          new TarBuilder()
              .file("good", "after")
              .write(state.resolveSibling("good-" + System.nanoTime() + ".tar"));
      assertThat(Files.readString(onTopOfBase(good).resolve("good")))
          .as("a good layer afterwards")
          .isEqualTo("after");
    }
  }

  private static void add(List<Arguments> cases, String name, Reason reason, Layer layer) {
    cases.add(Arguments.of(name, reason, layer));
  }

  private static void contain(List<Arguments> cases, String name, Layer layer, Contained check) {
    cases.add(Arguments.of(name, layer, check));
  }

  private static Path tar(Path dir, TarBuilder tar) {
    return tar.write(dir.resolve("layer-" + System.nanoTime() + ".tar"));
  }

  /** A layer of one file, {@code f}, whose PAX header carries {@code records}. */
  private static Path fileWithPax(Path dir, Map<String, String> records) {
    return tar(dir, new TarBuilder().file("f", "x".getBytes(StandardCharsets.UTF_8), pax(records)));
  }

  private static Path rawTar(Path dir, byte[]... parts) throws Exception {
    return Files.write(dir.resolve("raw-" + System.nanoTime() + ".tar"), raw(parts));
  }

  /** {@code bytes} with {@code length} spaces from {@code offset}, as a checksum is computed. */
  private static byte[] blank(byte[] bytes, int offset, int length) {
    byte[] copy = bytes.clone();
    java.util.Arrays.fill(copy, offset, offset + length, (byte) ' ');
    return copy;
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  private static void exec(String... command) throws Exception {
    Process p = new ProcessBuilder(command).inheritIO().start();
    assertThat(p.waitFor()).isZero();
  }

  private static List<String> list(Path dir) throws Exception {
    try (var s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
