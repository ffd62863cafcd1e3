package io.strata.layout;

import java.nio.file.Path;

/**
 * Where the layer store keeps what it holds, beneath the node's state dir: the part of {@link
 * NodeLayout} that needs no mount base ({@code strata materialize} uses it alone). Its tree is
 * drawn in {@link NodeLayout}'s.
 */
public record StoreLayout(Path stateDir) {
  public static final String INGEST = "ingest";
  public static final String BLOBS = "blobs";
  public static final String STAGING = "staging";
  public static final String LOCK_SUFFIX = ".lock";
  public static final String LAYERS = "layers";
  public static final String ROOT = "root";
  public static final String LAYER_RECORD = "layer.json";
  public static final String DIFF_IDS = "diffids";
  public static final String TRASH = "trash";

  public StoreLayout {
    stateDir = stateDir.toAbsolutePath().normalize();
  }

  /** Partial downloads, resumed from where they stopped. */
  public Path ingest() {
    return stateDir.resolve(INGEST);
  }

  /** Verified blobs, by digest: {@code blobs/sha256}. */
  public Path blobs() {
    return stateDir.resolve(BLOBS).resolve("sha256");
  }

  public Path blob(String hex) {
    return blobs().resolve(hex);
  }

  /** Private (0700) trees being built; emptied at start. */
  public Path staging() {
    return stateDir.resolve(STAGING);
  }

  /** One build's tree: {@code staging/<name>}. */
  public Path build(String name) {
    return staging().resolve(name);
  }

  /**
   * The lock that keeps two builds of one layer from running at once: {@code staging/<key>.lock}.
   */
  public Path buildLock(String key) {
    return staging().resolve(key + LOCK_SUFFIX);
  }

  public static boolean isBuildLock(String name) {
    return name.endsWith(LOCK_SUFFIX);
  }

  public Path layers() {
    return stateDir.resolve(LAYERS);
  }

  /** The committed layer of a chain: {@code layers/<chain hex>}. */
  public Path layer(String chainHex) {
    return layers().resolve(chainHex);
  }

  public Path layerRoot(String chainHex) {
    return layer(chainHex).resolve(ROOT);
  }

  /** What built a committed layer: {@code layers/<chain hex>/layer.json}. */
  public Path layerRecord(String chainHex) {
    return layer(chainHex).resolve(LAYER_RECORD);
  }

  /** The record a build writes into its own tree before it is published as a layer. */
  public static Path recordIn(Path build) {
    return build.resolve(LAYER_RECORD);
  }

  /** The root a build writes into its own tree before it is published as a layer. */
  public static Path rootIn(Path build) {
    return build.resolve(ROOT);
  }

  /** The diffID a verified blob unpacked to: {@code diffids/sha256/<blob hex>}. */
  public Path diffIdRecord(String blobHex) {
    return stateDir.resolve(DIFF_IDS).resolve("sha256").resolve(blobHex);
  }

  /** Removals in progress; emptied at start. */
  public Path trash() {
    return stateDir.resolve(TRASH);
  }
}
