package io.strata.tarapply;

import io.strata.oci.MediaTypes;
import io.strata.tarapply.LayerException.Reason;
import java.io.IOException;
import java.io.InputStream;

/** How a layer blob is compressed: declared by its media type, checked against its magic bytes. */
public enum Compression {
  NONE,
  GZIP,
  ZSTD;

  /** The compression a layer media type declares; null means "sniff it". */
  public static Compression ofMediaType(String mediaType) throws LayerException {
    if (mediaType == null || mediaType.isEmpty()) {
      return null;
    }
    return switch (mediaType) {
      case MediaTypes.OCI_LAYER, MediaTypes.DOCKER_LAYER -> NONE;
      case MediaTypes.OCI_LAYER_GZIP, MediaTypes.DOCKER_LAYER_GZIP -> GZIP;
      case MediaTypes.OCI_LAYER_ZSTD -> ZSTD;
      default ->
          throw new LayerException(
              Reason.UnsupportedMediaType, "media type " + mediaType + " is not a tar layer");
    };
  }

  /** What the first bytes say: gzip and zstd by magic number, anything else is taken for tar. */
  public static Compression sniff(InputStream marked) throws IOException {
    marked.mark(4);
    byte[] magic = marked.readNBytes(4);
    marked.reset();
    if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
      return GZIP;
    }
    if (magic.length == 4
        && (magic[0] & 0xff) == 0x28
        && (magic[1] & 0xff) == 0xb5
        && (magic[2] & 0xff) == 0x2f
        && (magic[3] & 0xff) == 0xfd) {
      return ZSTD;
    }
    return NONE;
  }
}
