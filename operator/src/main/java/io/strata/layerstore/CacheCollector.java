package io.strata.layerstore;

import io.strata.layout.StoreLayout;
import io.strata.layout.Trees;
import io.strata.overlay.MountInfo;
import io.strata.overlay.MountTable;
import io.strata.sys.FsStat;
import io.strata.sys.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the layer cache within its budget: when it holds more than {@link Budget#maxBytes()} or its
 * filesystem runs below the free-space or free-inode watermark, committed roots that nothing needs
 * and nothing mounts are removed, least recently used first, each through {@code trash/} in one
 * rename (a crash midway leaves trash that start-up empties, never half a root in place).
 */
public final class CacheCollector {
  private static final Logger log = LoggerFactory.getLogger(CacheCollector.class);

  /**
   * @param maxBytes apparent bytes of all committed roots, 0 for no limit (hardlinked data is
   *     counted once per root holding it, so this over-counts what the disk holds)
   */
  public record Budget(long maxBytes, long minFreeBytes, long minFreeInodes) {}

  private record Root(String chainHex, long files, long bytes, long lastUsed) {}

  /**
   * What the cache holds: apparent bytes and files of the committed roots (hardlinked data counted
   * once per root), and the size of the filesystem it lives on.
   */
  public record Usage(long bytes, long files, long capacityBytes) {}

  private final StoreLayout layout;
  private final Syscalls sys;

  public CacheCollector(StoreLayout layout, Syscalls sys) {
    this.layout = layout;
    this.sys = sys;
  }

  /**
   * Removes roots until the cache is within {@code budget} or nothing more may go.
   *
   * @param needed chain IDs (hex) of roots a LayerSet this node serves needs
   * @return the chain IDs (hex) removed
   */
  public List<String> collect(Set<String> needed, Budget budget) throws IOException {
    List<Root> roots = committedRoots();
    Set<String> mounted = mountedRoots();
    long total = roots.stream().mapToLong(Root::bytes).sum();
    List<Root> candidates =
        roots.stream()
            .filter(r -> !needed.contains(r.chainHex()) && !mounted.contains(r.chainHex()))
            .sorted(Comparator.comparingLong(Root::lastUsed))
            .toList();
    List<String> removed = new ArrayList<>();
    for (Root root : candidates) {
      if (withinBudget(total, budget)) {
        break;
      }
      Trees.deleteViaTrash(layout.layer(root.chainHex()), layout.trash());
      total -= root.bytes();
      removed.add(root.chainHex());
      log.info(
          "removed unused root sha256:{} ({} bytes) from the cache", root.chainHex(), root.bytes());
    }
    return removed;
  }

  /** What the committed roots hold now, from their records. */
  public Usage usage() throws IOException {
    List<Root> roots = committedRoots();
    return new Usage(
        roots.stream().mapToLong(Root::bytes).sum(),
        roots.stream().mapToLong(Root::files).sum(),
        sys.statfs(layout.stateDir()).totalBytes());
  }

  private boolean withinBudget(long total, Budget budget) throws IOException {
    FsStat fs = sys.statfs(layout.layers());
    boolean bytesOk = budget.maxBytes() <= 0 || total <= budget.maxBytes();
    boolean spaceOk = fs.availableBytes() >= budget.minFreeBytes();
    boolean inodesOk = fs.files() == 0 || fs.freeFiles() >= budget.minFreeInodes();
    return bytesOk && spaceOk && inodesOk;
  }

  private List<Root> committedRoots() throws IOException {
    if (!Files.isDirectory(layout.layers())) {
      return List.of();
    }
    List<Root> roots = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(layout.layers())) {
      for (Path dir : dirs.toList()) {
        Path root = StoreLayout.rootIn(dir);
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
          continue; // not a committed root: the layer store clears it when it publishes one there
        }
        Path record = StoreLayout.recordIn(dir);
        LayerStore.LayerRecord stored = LayerStore.readRecord(record);
        String chainHex = dir.getFileName().toString();
        if (stored != null) {
          roots.add(
              new Root(
                  chainHex,
                  stored.files(),
                  stored.bytes(),
                  Files.getLastModifiedTime(record).toMillis()));
        } else { // the layer store writes it again when the root is next used
          log.warn(
              "{} is unreadable: counting its root, and taking it as the least recently used",
              record);
          long[] counted = LayerStore.count(root);
          roots.add(new Root(chainHex, counted[0], counted[1], 0));
        }
      }
    }
    return roots;
  }

  /** Chain IDs whose root is a lower of some overlay on this host, Strata's or not. */
  private Set<String> mountedRoots() throws IOException {
    Set<String> mounted = new HashSet<>();
    String prefix = layout.layers().toString() + "/";
    for (MountInfo m : MountTable.read().mounts()) {
      if (!"overlay".equals(m.fsType())) {
        continue;
      }
      for (String option : m.superOptions().split(",")) {
        if (option.startsWith("lowerdir=")) {
          for (String lower : option.substring("lowerdir=".length()).split(":")) {
            if (lower.startsWith(prefix)) {
              mounted.add(lower.substring(prefix.length()).split("/")[0]);
            }
          }
        }
      }
    }
    return mounted;
  }
}
