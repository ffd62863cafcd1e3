package io.strata.layerstore;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.strata.layout.RecordFile;
import io.strata.layout.StoreLayout;
import io.strata.layout.Trees;
import io.strata.oci.ChainIds;
import io.strata.oci.Digest;
import io.strata.sys.Errno;
import io.strata.sys.Fd;
import io.strata.sys.SyscallException;
import io.strata.sys.Syscalls;
import io.strata.tarapply.LayerException;
import io.strata.tarapply.LayerException.Reason;
import io.strata.tarapply.LayerReader;
import io.strata.tarapply.Limits;
import io.strata.tarapply.RootWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's layer cache: a committed root per chain ID, each made by hardlink-copying the nearest
 * committed ancestor and applying the remaining layers in private staging, then published by one
 * rename. Committed roots are never modified. A build publishes the requested tip, plus the roots
 * on its way that another request needs: a chain that is a prefix of this one, or the last layer
 * this chain shares with another one (where that one will start). Not one root per layer.
 * Concurrent builds never apply the same layer onto the same root twice.
 */
public final class LayerStore {
  private static final Logger log = LoggerFactory.getLogger(LayerStore.class);
  public static final int MAX_LAYERS = 128;

  /**
   * Reads and writes {@code layer.json}: Jackson's own mapper, since the layer store needs nothing
   * of the Kubernetes client's (which also builds a YAML mapper, a cost paid before the first entry
   * of every {@code strata materialize}). Fields a later version adds are ignored.
   */
  static final ObjectMapper JSON =
      JsonMapper.builder().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

  private final StoreLayout layout;
  private final Syscalls sys;
  private final LayerReader reader;
  private final Limits limits;
  private final ConcurrentHashMap<String, Object> building = new ConcurrentHashMap<>();

  /** The chains (blob digests, base first) requests have declared, each with its count. */
  private final ConcurrentHashMap<List<Digest>, Integer> wanted = new ConcurrentHashMap<>();

  private final LongAdder layersApplied = new LongAdder();

  public LayerStore(StoreLayout layout, Syscalls sys, Limits limits) {
    this.layout = layout;
    this.sys = sys;
    this.reader = new LayerReader(limits);
    this.limits = limits;
  }

  /**
   * A layer blob to apply. {@code digest} (the blob's) and {@code diffId} (its uncompressed tar's,
   * as an image config lists it) are checked when given; either may be null.
   */
  public record LayerSource(Path file, Digest digest, String mediaType, Digest diffId) {
    public LayerSource(Path file, Digest digest, String mediaType) {
      this(file, digest, mediaType, null);
    }
  }

  /** A committed root and what it holds. */
  public record Materialized(
      Digest chainId, Path root, long files, long bytes, List<Digest> diffIds, boolean reused) {}

  /** What {@code layers/<chain>/layer.json} records. */
  record LayerRecord(
      String chainId, List<String> diffIds, List<String> blobDigests, long files, long bytes) {}

  /**
   * Start-up: empties {@code trash/} and removes staging builds that no live process holds (a crash
   * mid-build leaves one; it is never used).
   */
  public void recover() throws IOException {
    ensureDirectories();
    Files.createDirectories(layout.trash());
    try (var left = Files.list(layout.trash())) {
      for (Path entry : left.toList()) {
        Trees.delete(entry); // the directory stays: another process may be moving into it
      }
    }
    try (var entries = Files.list(layout.staging())) {
      for (Path entry : entries.toList()) {
        String name = entry.getFileName().toString();
        if (StoreLayout.isBuildLock(name)) {
          continue;
        }
        try (BuildLock lock = BuildLock.tryAcquire(sys, lockFile(name.split("-")[0]))) {
          if (lock != null) {
            log.info("removing an unfinished build {}", entry);
            Trees.delete(entry);
          }
        }
      }
    }
  }

  /** Layers extracted since this store was made; a layer a committed root holds is not counted. */
  public long layersApplied() {
    return layersApplied.sum();
  }

  /**
   * A declared chain; closing it withdraws the declaration, once: closing it again does nothing,
   * whatever other requests have declared the same chain.
   */
  public interface Interest extends AutoCloseable {
    @Override
    void close();
  }

  /**
   * Declares that a request will ask for the chain of {@code blobs} (base first), before its blobs
   * are even fetched: until the declaration is closed, a build that passes through the chain, or
   * shares layers with it and then goes another way, publishes the root this request will need
   * instead of leaving it to be made again. {@link #materialize} declares its own chain.
   */
  public Interest want(List<Digest> blobs) {
    List<Digest> chain = List.copyOf(blobs);
    wanted.merge(chain, 1, Integer::sum);
    AtomicBoolean withdrawn = new AtomicBoolean();
    return () -> {
      if (withdrawn.compareAndSet(false, true)) {
        wanted.computeIfPresent(chain, (c, n) -> n == 1 ? null : n - 1);
      }
    };
  }

  /**
   * Whether the root of the first {@code length} layers of {@code blobs} is needed by another
   * declared chain: one that ends there, or that shares exactly those layers and goes on with
   * different ones.
   */
  private boolean neededByAnother(List<Digest> blobs, int length) {
    for (List<Digest> other : wanted.keySet()) {
      if (sharedPrefix(blobs, other) == length) {
        return true;
      }
    }
    return false;
  }

  private static int sharedPrefix(List<Digest> a, List<Digest> b) {
    int n = 0;
    while (n < a.size() && n < b.size() && a.get(n).equals(b.get(n))) {
      n++;
    }
    return n;
  }

  private static long sizeOrUnknown(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      return -1;
    }
  }

  /** Hears how far a build is: which layer is being applied, and how far into it. */
  @FunctionalInterface
  public interface Progress {
    /**
     * @param layer the layer being applied, from 0, of {@code layers}
     * @param blobSize its blob's size in bytes, -1 when not known
     * @param blobBytes bytes of it read so far
     * @param entries entries of it applied so far
     */
    void applying(int layer, int layers, long blobSize, long blobBytes, long entries);

    Progress NONE = (layer, layers, blobSize, blobBytes, entries) -> {};
  }

  /** Materializes {@code layers} (base first) and returns the committed root of the whole chain. */
  public Materialized materialize(List<LayerSource> layers) throws LayerException, IOException {
    return materialize(layers, Progress.NONE);
  }

  /** As {@link #materialize(List)}, telling {@code progress} how far each layer it applies is. */
  public Materialized materialize(List<LayerSource> layers, Progress progress)
      throws LayerException, IOException {
    if (layers.isEmpty() || layers.size() > MAX_LAYERS) {
      throw new LayerException(
          Reason.SizeLimit, layers.size() + " layers: a chain holds 1 to " + MAX_LAYERS);
    }
    ensureDirectories();
    // A declared digest names the blob now and is verified while the blob is read: in the one
    // extracting pass, or (for layers a committed root already holds) by reading it through.
    List<Digest> blobs = new ArrayList<>();
    for (LayerSource layer : layers) {
      blobs.add(layer.digest() != null ? layer.digest() : Digest.ofFile(layer.file()));
    }
    try (Interest declared = want(blobs)) {
      int verified = 0; // layers before this one were checked against their declared digests
      while (true) {
        Known known = knownPrefix(blobs);
        for (int i = 0; i < known.diffIds.size(); i++) {
          verifyDiffId(layers.get(i), known.diffIds.get(i)); // as recorded when it was applied
        }
        for (; verified < known.committed; verified++) { // held by a committed root: still read
          verify(layers.get(verified), Digest.ofFile(layers.get(verified).file()));
        }
        if (known.committed == layers.size()) {
          return committed(ChainIds.of(known.diffIds).getLast(), known.diffIds, blobs, true);
        }
        // One build at a time applies a given layer onto a given root, in this process and across
        // processes; one that waited looks again, since the build before it may have published
        // more of this chain. Builds that part ways after a shared root run side by side.
        String key = segmentKey(blobs, known.committed);
        synchronized (building.computeIfAbsent(key, k -> new Object())) {
          try (BuildLock lock = BuildLock.acquire(sys, lockFile(key))) {
            if (knownPrefix(blobs).committed != known.committed) {
              continue;
            }
            Materialized made = buildSegment(key, layers, blobs, known, progress);
            verified = made.diffIds().size(); // each layer verified as it was read
            if (verified == layers.size()) {
              return made;
            }
            log.info("published {} on the way: another request needs it", made.chainId());
          }
        }
      }
    }
  }

  /**
   * The committed root of the chain of {@code blobs} (base first), or null when this node has none:
   * found through the diffIDs recorded as each blob was verified and applied, so the blobs
   * themselves need not be here. A root found is marked used.
   */
  public Materialized lookup(List<Digest> blobs) throws IOException {
    if (blobs.isEmpty() || blobs.size() > MAX_LAYERS) {
      return null;
    }
    Known known = knownPrefix(blobs);
    if (known.committed != blobs.size()) {
      return null;
    }
    return committed(ChainIds.of(known.diffIds).getLast(), known.diffIds, blobs, true);
  }

  /** Names the build of layer {@code next} of {@code blobs} onto the root of the ones before. */
  private static String segmentKey(List<Digest> blobs, int next) {
    String chain = String.join(",", blobs.subList(0, next + 1).stream().map(Digest::hex).toList());
    return Digest.of(chain.getBytes(StandardCharsets.US_ASCII)).hex().substring(0, 32);
  }

  /** The longest run of layers whose diffIDs are known, and the deepest committed root in it. */
  private record Known(List<Digest> diffIds, int committed) {}

  private Known knownPrefix(List<Digest> blobs) throws IOException {
    List<Digest> diffIds = new ArrayList<>();
    int committed = 0;
    for (Digest blob : blobs) {
      Digest diffId = recordedDiffId(blob);
      if (diffId == null) {
        break;
      }
      diffIds.add(diffId);
      if (isCommitted(ChainIds.of(diffIds).getLast())) {
        committed = diffIds.size();
      }
    }
    return new Known(List.copyOf(diffIds), committed);
  }

  /**
   * Applies the layers after the nearest committed ancestor onto a hardlink copy of it (or an empty
   * root) in private staging, up to the end of the chain or to a root another request needs (asked
   * after each layer, so a request that arrives mid-build is still served), and publishes the
   * result. Reused when another process published the same root meanwhile. An I/O failure (a disk
   * error, say) becomes {@code IOError} naming the step it stopped.
   */
  private Materialized buildSegment(
      String key, List<LayerSource> layers, List<Digest> blobs, Known known, Progress progress)
      throws LayerException, IOException {
    List<Digest> diffIds = new ArrayList<>(known.diffIds.subList(0, known.committed));
    Path ancestor =
        diffIds.isEmpty() ? null : layout.layerRoot(ChainIds.of(diffIds).getLast().hex());
    String step =
        ancestor == null ? "starting a build in " + layout.staging() : "copying " + ancestor;
    try (Staged build = new Staged(layout.build(key + "-" + System.nanoTime()));
        Writeback writeback = new Writeback(sys, build.dir, "strata-layer-writeback")) {
      try {
        Path root = StoreLayout.rootIn(build.dir);
        if (ancestor != null) {
          new TreeLinker(sys).copy(ancestor, root);
        } else {
          Files.createDirectory(root);
          sys.chmod(root, 0755);
        }
        try (RootWriter writer = new RootWriter(root, ancestor, sys, limits, writeback::request)) {
          do {
            int i = diffIds.size();
            LayerSource layer = layers.get(i);
            step = "applying " + layer.file();
            long size = sizeOrUnknown(layer.file()); // reading it says what is wrong with it
            LayerReader.Applied applied =
                reader.apply(
                    layer.file(),
                    layer.mediaType(),
                    writer,
                    (bytes, entries) -> progress.applying(i, layers.size(), size, bytes, entries));
            verify(layer, applied.blobDigest());
            if (!applied.blobDigest().equals(blobs.get(i))) {
              throw new LayerException(
                  Reason.DigestMismatch, layer.file() + " changed while it was being read");
            }
            verifyDiffId(layer, applied.diffId());
            step = "recording the diffID of " + layer.file();
            recordDiffId(blobs.get(i), applied.diffId());
            diffIds.add(applied.diffId());
            layersApplied.increment();
          } while (diffIds.size() < layers.size() && !neededByAnother(blobs, diffIds.size()));
        }
        Digest chain = ChainIds.of(diffIds).getLast();
        step = "committing " + chain + " from " + build.dir;
        writeback.finish();
        if (isCommitted(chain)) {
          return committed(chain, diffIds, blobs, true);
        }
        Materialized made =
            publish(build.dir, root, chain, diffIds, blobs.subList(0, diffIds.size()));
        build.published = true;
        return made;
      } catch (LayerException | IOException e) {
        writeback.throwFailureBehind(e); // a disk that failed explains what failed after it
        throw e;
      }
    } catch (IOException e) {
      boolean full = e instanceof SyscallException failed && failed.is(Errno.ENOSPC);
      throw new LayerException(
          full ? Reason.NoSpace : Reason.IOError, step + ": " + e.getMessage(), e);
    }
  }

  /**
   * A private build directory in staging, removed on close unless it was published. A failure to
   * remove it is suppressed in the failure that stopped the build, never in its place; start-up
   * removes what is left.
   */
  private final class Staged implements AutoCloseable {
    final Path dir;
    boolean published;

    Staged(Path dir) throws IOException {
      this.dir = dir;
      Files.createDirectory(dir);
      sys.chmod(dir, 0700);
    }

    @Override
    public void close() throws IOException {
      if (!published) {
        Trees.delete(dir);
      }
    }
  }

  /**
   * Syncs, records and renames the build into {@code layers/<chain>} in one step. Every file of the
   * root is on disk before the root is visible; the record is written after the sync (it holds the
   * root's counts, taken while the sync waits on the disk) and synced on its own.
   */
  private Materialized publish(
      Path build, Path root, Digest chain, List<Digest> diffIds, List<Digest> blobs)
      throws LayerException, IOException {
    long[] counts;
    try (Fd buildFd = sys.openDirectory(build);
        Fd staging = sys.openDirectoryHandle(layout.staging());
        Fd layers = sys.openDirectory(layout.layers())) {
      try (Writeback sync = new Writeback(sys, build, "strata-layer-sync")) {
        sync.request(); // one waits on the disk, the other on the CPU
        counts = count(root);
        sync.finish();
      }
      LayerRecord record = record(chain, diffIds, blobs, counts);
      Path recordFile = StoreLayout.recordIn(build);
      Files.write(recordFile, JSON.writeValueAsBytes(record));
      try (Fd recordFd = sys.openForReading(recordFile)) {
        sys.fsync(recordFd);
      }
      sys.fsync(buildFd);
      removeDebris(chain);
      sys.renameNoReplace(staging, build.getFileName().toString(), layers, chain.hex());
      sys.fsync(layers);
    } catch (SyscallException e) {
      if (e.is(Errno.EEXIST) || e.is(Errno.ENOTEMPTY)) {
        return committed(chain, diffIds, blobs, true); // another process published it first
      }
      if (e.is(Errno.ENOSPC)) {
        throw new LayerException(Reason.NoSpace, e.getMessage());
      }
      throw e;
    }
    return new Materialized(
        chain, layout.layerRoot(chain.hex()), counts[0], counts[1], List.copyOf(diffIds), false);
  }

  /**
   * Removes what stands at {@code layers/<chain>} without a root in it, which no build leaves (each
   * renames its root and record into place at once), but a damaged disk's repair or an interrupted
   * removal by hand can; nothing can mount it.
   */
  private void removeDebris(Digest chain) throws IOException {
    Path dir = layout.layer(chain.hex());
    if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS) && !isCommitted(chain)) {
      log.warn("{} holds no root: removing it to publish one", dir);
      Trees.deleteViaTrash(dir, layout.trash());
    }
  }

  /**
   * The committed root of {@code chain}, marked used. Its record is only what the chain and the
   * root say: when a damaged disk has made it unreadable or removed it, it is written again from
   * them, and the root, which is never changed, goes on serving as it is.
   */
  private Materialized committed(
      Digest chain, List<Digest> diffIds, List<Digest> blobs, boolean reused) throws IOException {
    Path recordFile = layout.layerRecord(chain.hex());
    LayerRecord record = readRecord(recordFile);
    if (record == null || !chain.toString().equals(record.chainId())) {
      log.warn(
          "{} is unreadable or names another chain: writing it again from its root", recordFile);
      long[] counts = count(layout.layerRoot(chain.hex()));
      record = record(chain, diffIds, blobs.subList(0, diffIds.size()), counts);
      RecordFile.replace(recordFile, JSON.writeValueAsString(record));
    }
    touch(chain);
    return new Materialized(
        chain,
        layout.layerRoot(chain.hex()),
        record.files(),
        record.bytes(),
        List.copyOf(diffIds),
        reused);
  }

  /** What {@code file} records, or null when it is not there or not a record. */
  static LayerRecord readRecord(Path file) {
    try {
      return JSON.readValue(file.toFile(), LayerRecord.class);
    } catch (IOException e) {
      return null;
    }
  }

  private static LayerRecord record(
      Digest chain, List<Digest> diffIds, List<Digest> blobs, long[] counts) {
    return new LayerRecord(
        chain.toString(),
        diffIds.stream().map(Digest::toString).toList(),
        blobs.stream().map(Digest::toString).toList(),
        counts[0],
        counts[1]);
  }

  /** Marks a root used now: the cache collector removes the least recently used first. */
  private void touch(Digest chain) throws IOException {
    Files.setLastModifiedTime(layout.layerRecord(chain.hex()), FileTime.from(Instant.now()));
  }

  /** A root is committed once its build is renamed into place, record and all, in one step. */
  private boolean isCommitted(Digest chain) {
    return Files.isDirectory(layout.layerRoot(chain.hex()), LinkOption.NOFOLLOW_LINKS);
  }

  private static void verify(LayerSource layer, Digest actual) throws LayerException {
    if (layer.digest() != null && !layer.digest().equals(actual)) {
      throw new LayerException(
          Reason.DigestMismatch,
          layer.file() + " has digest " + actual + ", expected " + layer.digest());
    }
  }

  private static void verifyDiffId(LayerSource layer, Digest actual) throws LayerException {
    if (layer.diffId() != null && !layer.diffId().equals(actual)) {
      throw new LayerException(
          Reason.DigestMismatch,
          layer.file()
              + " unpacks to diffID "
              + actual
              + ", but its image lists "
              + layer.diffId());
    }
  }

  private void recordDiffId(Digest blob, Digest diffId) throws IOException {
    Path record = layout.diffIdRecord(blob.hex());
    Files.createDirectories(record.getParent());
    RecordFile.replace(record, diffId + "\n");
  }

  /**
   * The diffID recorded for {@code blob}, or null when none is, or what is there is not a digest
   * (as a file system may leave a file after a power cut): the blob is then applied again and its
   * record rewritten.
   */
  private Digest recordedDiffId(Digest blob) throws IOException {
    String recorded = RecordFile.read(layout.diffIdRecord(blob.hex()));
    if (recorded == null) {
      return null;
    }
    try {
      return Digest.parse(recorded.strip());
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** Regular files and their bytes in a root: one lstat per entry, links never followed. */
  static long[] count(Path root) throws IOException {
    long[] counts = new long[2];
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            if (attrs.isRegularFile()) {
              counts[0]++;
              counts[1] += attrs.size();
            }
            return FileVisitResult.CONTINUE;
          }
        });
    return counts;
  }

  private Path lockFile(String key) {
    return layout.buildLock(key);
  }

  private void ensureDirectories() throws IOException {
    for (Path dir : List.of(layout.staging(), layout.layers(), layout.trash())) {
      Files.createDirectories(dir);
    }
    sys.chmod(layout.staging(), 0700);
  }
}
