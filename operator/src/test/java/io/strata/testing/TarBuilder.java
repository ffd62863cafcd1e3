package io.strata.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Builds layer archives for tests with Commons Compress's tar writer (PAX for long names and big
 * numbers), and, for archives no honest writer makes, raw header blocks from its header formatter:
 * {@link #rawHeader}, {@link #raw}.
 */
public final class TarBuilder {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final TarArchiveOutputStream tar;

  public TarBuilder() {
    tar = new TarArchiveOutputStream(bytes);
    tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    tar.setAddPaxHeadersForNonAsciiNames(true);
  }

  public TarBuilder dir(String name) {
    return dir(name, 0755);
  }

  public TarBuilder dir(String name, int mode) {
    return entry(
        name.endsWith("/") ? name : name + "/", TarConstants.LF_DIR, null, e -> e.setMode(mode));
  }

  public TarBuilder file(String name, String content) {
    return file(name, content.getBytes(StandardCharsets.UTF_8), e -> e.setMode(0644));
  }

  public TarBuilder file(String name, byte[] content, Consumer<TarArchiveEntry> tweak) {
    return entry(name, TarConstants.LF_NORMAL, content, tweak);
  }

  public TarBuilder symlink(String name, String target) {
    return entry(name, TarConstants.LF_SYMLINK, null, e -> e.setLinkName(target));
  }

  public TarBuilder hardlink(String name, String target) {
    return entry(name, TarConstants.LF_LINK, null, e -> e.setLinkName(target));
  }

  public TarBuilder fifo(String name) {
    return entry(name, TarConstants.LF_FIFO, null, e -> e.setMode(0644));
  }

  public TarBuilder charDevice(String name, int major, int minor) {
    return entry(
        name,
        TarConstants.LF_CHR,
        null,
        e -> {
          e.setMode(0666);
          e.setDevMajor(major);
          e.setDevMinor(minor);
        });
  }

  public TarBuilder whiteout(String dir, String name) {
    return file((dir.isEmpty() ? "" : dir + "/") + ".wh." + name, "");
  }

  public TarBuilder opaque(String dir) {
    return file((dir.isEmpty() ? "" : dir + "/") + ".wh..wh..opq", "");
  }

  /** Any entry; {@code tweak} sets what the defaults (0644, root, mtime 1e9) do not. */
  public TarBuilder entry(String name, byte type, byte[] content, Consumer<TarArchiveEntry> tweak) {
    TarArchiveEntry entry = new TarArchiveEntry(name, type, true);
    entry.setMode(type == TarConstants.LF_DIR ? 0755 : 0644);
    entry.setModTime(1_000_000_000_000L);
    entry.setUserId(0);
    entry.setGroupId(0);
    tweak.accept(entry);
    entry.setSize(content == null ? 0 : content.length);
    try {
      tar.putArchiveEntry(entry);
      if (content != null) {
        tar.write(content);
      }
      tar.closeArchiveEntry();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  /** Adds PAX records to the next entry. */
  public static Consumer<TarArchiveEntry> pax(Map<String, String> records) {
    return e -> records.forEach(e::addPaxHeader);
  }

  public byte[] bytes() {
    try {
      tar.finish();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Path write(Path file) {
    try {
      return Files.write(file, bytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Path writeGzip(Path file) {
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
      out.write(bytes());
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- raw archives, for what no honest writer produces

  /** One 512-byte header block, formatted by Commons Compress, for an entry of {@code size}. */
  public static byte[] rawHeader(String name, byte type, long size) {
    TarArchiveEntry entry = new TarArchiveEntry(name, type, true);
    entry.setSize(size);
    entry.setMode(0644);
    entry.setModTime(1_000_000_000_000L);
    byte[] block = new byte[512];
    entry.writeEntryHeader(block);
    return block;
  }

  /** A PAX record, {@code "<len> <key>=<value>\n"}. */
  public static byte[] paxRecord(String key, String value) {
    String body = " " + key + "=" + value + "\n";
    int length = body.length() + 1;
    while (String.valueOf(length).length() + body.length() != length) {
      length++;
    }
    return (length + body).getBytes(StandardCharsets.UTF_8);
  }

  /** A PAX extended header block ({@code x}) and its records, which apply to the next entry. */
  public static byte[] paxHeader(byte[]... records) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] record : records) {
      out.writeBytes(record);
    }
    byte[] body = out.toByteArray();
    out.reset();
    out.writeBytes(rawHeader("PaxHeaders/f", TarConstants.LF_PAX_EXTENDED_HEADER_LC, body.length));
    out.writeBytes(body);
    return out.toByteArray();
  }

  /** Concatenates headers and payloads, padding each payload to a block; ends the archive. */
  public static byte[] raw(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
      out.writeBytes(new byte[(512 - part.length % 512) % 512]);
    }
    out.writeBytes(new byte[1024]);
    return out.toByteArray();
  }
}
