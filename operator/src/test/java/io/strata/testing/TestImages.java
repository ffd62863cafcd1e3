package io.strata.testing;

import static io.strata.testing.Tools.run;
import static io.strata.testing.Tools.sh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.oci.Digest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Small real OCI images built by {@code umoci} in an OCI layout, and pushed to a registry by {@code
 * skopeo}. Tags: {@code v1} (two layers: files, a symlink, a hardlink, then a change and a
 * whiteout), {@code v2} (v1 plus a layer), {@code v1-arm64} and {@code v2-arm64} (the same layers,
 * an arm64 config) and {@code multi}, an image index of v1 for linux/amd64 and v2-arm64 for
 * linux/arm64.
 */
public final class TestImages {
  private final Path layout;

  private TestImages(Path layout) {
    this.layout = layout;
  }

  public static TestImages build(Path dir) throws IOException, InterruptedException {
    Tools.requireCommand("umoci");
    Files.createDirectories(dir);
    Path layout = dir.resolve("layout");
    Path bundle = dir.resolve("bundle");
    run(dir, "umoci", "init", "--layout", layout.toString());
    run(dir, "umoci", "new", "--image", layout + ":empty");
    run(dir, "umoci", "unpack", "--rootless", "--image", layout + ":empty", bundle.toString());
    Path rootfs = bundle.resolve("rootfs");
    sh(
        rootfs,
        """
        mkdir -p etc usr/bin var/lib/app
        echo 'strata test image' > etc/issue
        echo one > etc/removed-later
        printf '#!/bin/sh\\necho tool\\n' > usr/bin/tool && chmod 0755 usr/bin/tool
        ln -s /usr/bin/tool usr/bin/tool-link
        ln usr/bin/tool usr/bin/tool-hardlink
        head -c 300000 /dev/urandom > var/lib/app/data.bin
        touch -d @1600000000 etc/issue
        """);
    run(dir, "umoci", "repack", "--refresh-bundle", "--image", layout + ":base", bundle.toString());
    sh(
        rootfs,
        """
        rm etc/removed-later
        echo 'strata test image, v1' > etc/issue
        chmod 0600 var/lib/app/data.bin
        """);
    run(dir, "umoci", "repack", "--refresh-bundle", "--image", layout + ":v1", bundle.toString());
    sh(rootfs, "echo v2 > etc/version");
    run(dir, "umoci", "repack", "--refresh-bundle", "--image", layout + ":v2", bundle.toString());
    run(
        dir,
        "umoci",
        "config",
        "--image",
        layout + ":v1",
        "--architecture",
        "arm64",
        "--tag",
        "v1-arm64");
    run(
        dir,
        "umoci",
        "config",
        "--image",
        layout + ":v2",
        "--architecture",
        "arm64",
        "--tag",
        "v2-arm64");
    TestImages images = new TestImages(layout);
    images.addIndex("multi", List.of("v1", "v2-arm64"), List.of("amd64", "arm64"));
    return images;
  }

  public Path layout() {
    return layout;
  }

  /** The digest of the manifest (or index) tagged {@code tag} in the layout. */
  public Digest digest(String tag) throws IOException {
    return Digest.parse(descriptor(tag).path("digest").asText());
  }

  /** The layer digests of single-platform {@code tag}, base first. */
  public List<Digest> layers(String tag) throws IOException {
    JsonNode manifest = readBlob(digest(tag));
    List<Digest> layers = new ArrayList<>();
    for (JsonNode layer : manifest.path("layers")) {
      layers.add(Digest.parse(layer.path("digest").asText()));
    }
    return layers;
  }

  /** The diffIDs the config of single-platform {@code tag} lists, base first. */
  public List<Digest> diffIds(String tag) throws IOException {
    JsonNode config =
        readBlob(Digest.parse(readBlob(digest(tag)).path("config").path("digest").asText()));
    List<Digest> diffIds = new ArrayList<>();
    for (JsonNode diffId : config.path("rootfs").path("diff_ids")) {
      diffIds.add(Digest.parse(diffId.asText()));
    }
    return diffIds;
  }

  /**
   * Tags {@code as} an image of {@code tag}'s layers whose config lists the diffIDs {@code edit}
   * makes of {@code tag}'s: an image that lies about its layers.
   */
  public void withDiffIds(String tag, String as, UnaryOperator<List<String>> edit)
      throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode manifest = (ObjectNode) readBlob(digest(tag));
    ObjectNode configRef = (ObjectNode) manifest.path("config");
    ObjectNode config = (ObjectNode) readBlob(Digest.parse(configRef.path("digest").asText()));
    List<String> diffIds = new ArrayList<>(diffIds(tag).stream().map(Digest::toString).toList());
    ArrayNode listed = ((ObjectNode) config.path("rootfs")).putArray("diff_ids");
    edit.apply(diffIds).forEach(listed::add);
    byte[] configBytes = json.writeValueAsBytes(config);
    configRef.put("digest", writeBlob(configBytes).toString());
    configRef.put("size", configBytes.length);
    tag(as, descriptor(tag).path("mediaType").asText(), json.writeValueAsBytes(manifest));
  }

  /** The blob file of {@code digest} in the layout. */
  public Path blob(Digest digest) {
    return layout.resolve("blobs/sha256").resolve(digest.hex());
  }

  /** Unpacks {@code tag} with {@code umoci unpack} (as root): the reference root filesystem. */
  public Path unpack(String tag, Path into) throws IOException, InterruptedException {
    run(layout.getParent(), "umoci", "unpack", "--image", layout + ":" + tag, into.toString());
    return into.resolve("rootfs");
  }

  /**
   * Copies {@code tag} to {@code registry/repository:as} with skopeo ({@code --all} keeps an index
   * whole); {@code login} is {@code user:password} or null.
   */
  public void push(String tag, String registry, String repository, String as, String login)
      throws IOException, InterruptedException {
    Tools.requireCommand("skopeo");
    List<String> command =
        new ArrayList<>(
            List.of(
                "skopeo",
                "--insecure-policy",
                "copy",
                "--all",
                "--quiet",
                "--dest-tls-verify=false"));
    if (login != null) {
      command.add("--dest-creds=" + login);
    }
    command.add("oci:" + layout + ":" + tag);
    command.add("docker://" + registry + "/" + repository + ":" + as);
    run(layout.getParent(), command.toArray(String[]::new));
  }

  private JsonNode descriptor(String tag) throws IOException {
    JsonNode index = new ObjectMapper().readTree(layout.resolve("index.json").toFile());
    for (JsonNode m : index.path("manifests")) {
      if (tag.equals(m.path("annotations").path("org.opencontainers.image.ref.name").asText())) {
        return m;
      }
    }
    throw new IllegalArgumentException("no tag " + tag + " in " + layout);
  }

  private JsonNode readBlob(Digest digest) throws IOException {
    return new ObjectMapper().readTree(blob(digest).toFile());
  }

  /** Writes an OCI image index of {@code tags} (one per architecture) and tags it {@code name}. */
  private void addIndex(String name, List<String> tags, List<String> architectures)
      throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode index = json.createObjectNode();
    index.put("schemaVersion", 2);
    index.put("mediaType", "application/vnd.oci.image.index.v1+json");
    ArrayNode manifests = index.putArray("manifests");
    for (int i = 0; i < tags.size(); i++) {
      JsonNode d = descriptor(tags.get(i));
      ObjectNode entry = manifests.addObject();
      entry.put("mediaType", d.path("mediaType").asText());
      entry.put("digest", d.path("digest").asText());
      entry.put("size", d.path("size").asLong());
      entry.putObject("platform").put("architecture", architectures.get(i)).put("os", "linux");
    }
    tag(name, "application/vnd.oci.image.index.v1+json", json.writeValueAsBytes(index));
  }

  private Digest writeBlob(byte[] bytes) throws IOException {
    Digest digest = Digest.of(bytes);
    Files.write(blob(digest), bytes);
    return digest;
  }

  /** Stores manifest or index {@code bytes} as a blob and tags it {@code name} in index.json. */
  private void tag(String name, String mediaType, byte[] bytes) throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode top = (ObjectNode) json.readTree(layout.resolve("index.json").toFile());
    ObjectNode entry = ((ArrayNode) top.path("manifests")).addObject();
    entry.put("mediaType", mediaType);
    entry.put("digest", writeBlob(bytes).toString());
    entry.put("size", bytes.length);
    entry.putObject("annotations").put("org.opencontainers.image.ref.name", name);
    json.writeValue(layout.resolve("index.json").toFile(), top);
  }
}
