package io.strata.oci;

import io.strata.sys.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** A sha256 content digest, {@code sha256:<64 lowercase hex>}. */
public record Digest(String hex) {
  private static final Pattern HEX = Pattern.compile("[a-f0-9]{64}");

  public Digest {
    if (hex == null || !HEX.matcher(hex).matches()) {
      throw new IllegalArgumentException("not a sha256 digest: " + hex);
    }
  }

  public static Digest parse(String text) {
    if (text == null || !text.startsWith("sha256:")) {
      throw new IllegalArgumentException("not a sha256 digest: " + text);
    }
    return new Digest(text.substring("sha256:".length()));
  }

  public static Digest of(MessageDigest finished) {
    return new Digest(HexFormat.of().formatHex(finished.digest()));
  }

  public static Digest of(byte[] bytes) {
    MessageDigest sha = sha256();
    sha.update(bytes);
    return of(sha);
  }

  /** The digest of every byte of {@code file}. */
  public static Digest ofFile(Path file) throws IOException {
    MessageDigest sha = sha256();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buffer = new byte[1 << 16];
      for (int n; (n = in.read(buffer)) > 0; ) {
        sha.update(buffer, 0, n);
      }
    } catch (FileSystemException e) {
      throw e; // names the file already
    } catch (IOException e) {
      throw new IOException("reading " + file + ": " + e.getMessage(), e); // EIO names nothing
    }
    return of(sha);
  }

  /** A new SHA-256 digest (see {@link Sha256} for whose). */
  public static MessageDigest sha256() {
    return Sha256.newDigest();
  }

  @Override
  public String toString() {
    return "sha256:" + hex;
  }
}
