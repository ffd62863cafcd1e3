package io.strata.layout;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A small text file the agent keeps beside what it describes (which mount an upper belongs to, the
 * lower it was last mounted on). A reader finds the old content or the new, never a truncated file:
 * a kill or a power cut between truncating and writing would otherwise lose what decides, for
 * instance, whether an upper is kept.
 */
public final class RecordFile {
  private RecordFile() {}

  /** The content of {@code file}, or null when there is no regular file there. */
  public static String read(Path file) throws IOException {
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      return null;
    }
    return Files.readString(file, StandardCharsets.UTF_8);
  }

  /**
   * Makes {@code content} the content of {@code file}: written beside it, synced, renamed over it
   * and the rename synced. Does nothing when the file already holds exactly that.
   */
  public static void replace(Path file, String content) throws IOException {
    if (content.equals(read(file))) {
      return;
    }
    Path temp = file.resolveSibling(file.getFileName() + ".new");
    try (FileChannel out =
        FileChannel.open(
            temp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE,
            LinkOption.NOFOLLOW_LINKS)) {
      ByteBuffer bytes = StandardCharsets.UTF_8.encode(content);
      while (bytes.hasRemaining()) {
        out.write(bytes);
      }
    } catch (IOException e) {
      throw Durable.named(temp, e);
    }
    Durable.rename(temp, file);
  }
}
