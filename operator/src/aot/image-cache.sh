#!/usr/bin/env bash
# Puts the JDK's ahead-of-time cache (JEP 483 and 514) for the image's `strata` command into the
# image Jib built: /opt/strata/strata.aot, trained inside the image's own root (its trimmed Java
# runtime, its libraries) by one `strata materialize --json` on a two-layer chain, as train.sh does
# for the jar. A cache holds only jars, and Jib's classpath starts with two directories, so the
# command runs from /opt/strata/strata-classes.jar (Strata's classes as a jar) and the image's
# library jars, in the order /opt/strata/classpath lists them; the entrypoint is unchanged.
#
# Needs root (umoci unpack keeps owners; the training run chroots into the image). Called by Maven
# in the package phase of the image profile, after Jib:
#   image-cache.sh IMAGE_TAR CLASSES_DIR IMAGE_NAME JAR_TOOL
set -euo pipefail
image=$1 classes=$2 name=$3 jar=$4

if [ "$(id -u)" != 0 ]; then
  echo "image-cache.sh: not root: the image's strata command runs without an AOT cache" >&2
  exit 0
fi
work=$(mktemp -d "$(dirname "$image")/image-cache.XXXXXX")
trap 'rm -rf "$work"' EXIT
skopeo --insecure-policy copy --quiet "docker-archive:$image" "oci:$work/layout:strata"
umoci unpack --image "$work/layout:strata" "$work/bundle" > /dev/null
rootfs=$work/bundle/rootfs

mkdir -p "$rootfs/opt/strata"
"$jar" --create --file "$rootfs/opt/strata/strata-classes.jar" -C "$classes" .
# The cache records each jar's modification time, and an image layer keeps whole seconds only:
# the jar gets the time Jib gives every file it adds, so it is the same after the repack.
touch -d @1 "$rootfs/opt/strata/strata-classes.jar"
{
  printf '/opt/strata/strata-classes.jar'
  tr ':' '\n' < "$rootfs/app/jib-classpath-file" | grep '\.jar$' | sed 's/^/:/' | tr -d '\n'
} > "$rootfs/opt/strata/classpath"

train=$rootfs/tmp/strata-training
mkdir -p "$train/tree/etc" "$train/tree/usr/bin"
echo base > "$train/tree/etc/hostname"
head -c 1000000 /dev/urandom > "$train/tree/usr/bin/big"
ln -s ../etc/hostname "$train/tree/usr/bin/link"
tar --numeric-owner -cf "$train/layer1.tar" -C "$train/tree" .
echo two > "$train/tree/etc/hostname"
tar --numeric-owner -czf "$train/layer2.tar.gz" -C "$train/tree" etc

# The flags of the image's strata command (src/main/jib/usr/local/bin/strata), without AOT code
# for call adapters (JDK-8364929, as in train.sh).
unshare --fork --pid --mount-proc="$rootfs/proc" chroot "$rootfs" env -i PATH=/opt/java/bin:/usr/bin:/bin \
  /opt/java/bin/java -XX:MaxRAMPercentage=75 -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError \
  --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  -XX:+UnlockDiagnosticVMOptions -XX:-AOTAdapterCaching -XX:AOTCacheOutput=/opt/strata/strata.aot \
  -cp "$(cat "$rootfs/opt/strata/classpath")" io.strata.cli.Main \
  materialize --json --state-dir /tmp/strata-training/state \
  /tmp/strata-training/layer1.tar /tmp/strata-training/layer2.tar.gz > "$work/training.log" 2>&1 || {
  cat "$work/training.log" >&2
  echo "image-cache.sh: the training run failed" >&2
  exit 1
}
rm -rf "$train" "$rootfs/opt/strata/strata.aot.config" "$rootfs"/tmp/hsperfdata_*
[ -s "$rootfs/opt/strata/strata.aot" ] || { echo "image-cache.sh: no cache made" >&2; exit 1; }

umoci repack --image "$work/layout:strata" "$work/bundle" > /dev/null
skopeo --insecure-policy copy --quiet "oci:$work/layout:strata" "docker-archive:$work/image.tar:$name"
mv "$work/image.tar" "$image"
echo "image-cache.sh: /opt/strata/strata.aot ($(du -h "$rootfs/opt/strata/strata.aot" | cut -f1)) in $image"
