#!/usr/bin/env bash
# Makes the JDK's ahead-of-time cache for strata.jar (JEP 483 and 514): one training run of
# `strata materialize --json` on a three-layer chain (tar, tar+gzip, tar+zstd) made here by GNU
# tar. A command started with -XX:AOTCache=<cache> then finds the classes that run used already
# loaded and linked: materialize opens its first layer 0.3 s after the JVM starts instead of 0.44 s
# (docs/benchmarks.md).
# The cache holds only what this run loaded; anything else loads from the jar as usual. It is valid
# for this JDK and this jar only: a JVM given a stale one says so on stdout and runs without it.
#
# Called by Maven in the package phase, after the shade plugin made the jar:
#   train.sh JAVA JAR CACHE
set -euo pipefail
java=$1 jar=$2 cache=$3

work=$(dirname "$cache")/aot-training
rm -rf "$work" "$cache"
mkdir -p "$work"/tree1/{etc,usr/bin,var/cache/apt} "$work"/tree2/{etc,usr/bin,var/cache}
trap 'rm -rf "$work"' EXIT

# Layer 1: the kinds of entry a root filesystem has, and a file big enough for the writer threads.
cd "$work/tree1"
echo base > etc/hostname
head -c 3000000 /dev/urandom > usr/bin/big
chmod 4755 usr/bin/big
ln usr/bin/big usr/bin/big-link
ln -s ../etc/hostname usr/bin/hostname-link
mkfifo var/fifo
echo old > var/cache/apt/pkgcache.bin
# Layer 2: a whiteout, an opaque directory and a rewritten file.
cd "$work/tree2"
echo two > etc/hostname
touch var/cache/.wh..wh..opq usr/bin/.wh.hostname-link
echo new > var/cache/fresh

owner=(--numeric-owner --owner="$(id -u)" --group="$(id -g)")
tar "${owner[@]}" -cf "$work/layer1.tar" -C "$work/tree1" .
tar "${owner[@]}" -czf "$work/layer2.tar.gz" -C "$work/tree2" .
echo three > "$work/tree2/etc/hostname"
tar "${owner[@]}" --zstd -cf "$work/layer3.tar.zst" -C "$work/tree2" etc

# No AOT code for call adapters: JDK 25 can file two adapters under one hash and then warns about it
# on stdout in every run that uses the cache (JDK-8364929, fixed in JDK 26), which would corrupt
# --json output. Classes and profiles, the bulk of the gain, are unaffected.
"$java" -XX:+UnlockDiagnosticVMOptions -XX:-AOTAdapterCaching -XX:AOTCacheOutput="$cache" \
  -jar "$jar" materialize --json --state-dir "$work/state" \
  "$work/layer1.tar" "$work/layer2.tar.gz" "$work/layer3.tar.zst" > "$work/training.log" 2>&1 || {
  cat "$work/training.log" >&2
  echo "train.sh: the training run failed" >&2
  exit 1
}
[ -s "$cache" ] || { cat "$work/training.log" >&2; echo "train.sh: no cache at $cache" >&2; exit 1; }
echo "train.sh: $cache ($(du -h "$cache" | cut -f1)) for $jar"
