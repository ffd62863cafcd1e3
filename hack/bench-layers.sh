#!/usr/bin/env bash
# Benchmark: strata materialize against GNU tar (plain, -xz, --zstd), cp -al and umoci unpack, on the
# same layers, interleaved, each command on a freshly made loop-mounted ext4 (the shared root
# filesystem is far noisier right after deletes). Whole processes are timed, JVM start included,
# and each command is followed by sync. Reports medians, ratios and peak RSS. Run as root.
#
#   hack/bench-layers.sh [ROUNDS]          (default 6: within each pair, each goes first in half)
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/env.sh
source hack/bench-lib.sh
rounds=${1:-6} # even: each of a pair goes first equally often
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
# The root the layer-store issue measures: minbase plus a toolchain (about 770 MB, 22k entries);
# STRATA_BENCH_ROOT=minbase takes the 153 MB one instead.
flavour=${STRATA_BENCH_ROOT:-large}
hack/build-test-rootfs.sh "$flavour" >/dev/null
./mvnw -B -q -ntp package -DskipTests

work=${STRATA_BENCH_DIR:-/var/tmp/strata-bench}
rm -rf "$work"; mkdir -p "$work/in" "$work/fs"
img="$work/fs.img"
rootfs=$(ls "${STRATA_TEST_CACHE:-$HOME/.cache/strata}/rootfs-bookworm-$flavour.tar")
jar=$PWD/operator/target/strata.jar
# The CLI as the README runs it: with the ahead-of-time cache the package phase trained for the jar
# (operator/src/aot/train.sh). strata-tar-nocache is the plain layer without it.
cache=$PWD/operator/target/strata.aot
[ -s "$cache" ] || { echo "no $cache: the package phase makes it" >&2; exit 1; }
# The JVM flags the agent ships with: the image's, then the chart's agent.javaOptions.
agent_opts=$(chart_java_options agent)
# shellcheck disable=SC2206
jvm=(java -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError $agent_opts)

# Inputs: a three-layer image umoci builds from the debootstrap root (--refresh-bundle: each
# repack is a diff on the tag before it); its first layer, the whole root as an image tool writes
# it (ustar, PAX records only where needed), uncompressed, gzip -6 and zstd -3; and the root as
# GNU tar --xattrs wrote it (PAX format: atime and ctime records on every entry), plain.
cp "$rootfs" "$work/in/posix.tar"
(
  cd "$work/in"
  umoci init --layout img >/dev/null && umoci new --image img:empty >/dev/null
  umoci unpack --image img:empty bundle >/dev/null
  tar --numeric-owner --xattrs --xattrs-include='*' -xpf posix.tar -C bundle/rootfs
  umoci repack --refresh-bundle --image img:l1 bundle >/dev/null
  echo two > bundle/rootfs/etc/hostname; rm -rf bundle/rootfs/usr/share/doc; cp -a bundle/rootfs/usr/bin bundle/rootfs/opt/bin2
  umoci repack --refresh-bundle --image img:l2 bundle >/dev/null
  echo three > bundle/rootfs/etc/hostname; rm -rf bundle/rootfs/usr/share/locale bundle/rootfs/opt/bin2/ls
  umoci repack --refresh-bundle --image img:l3 bundle >/dev/null
  layers() {
    python3 - "$1" <<'PY'
import json, sys
idx = json.load(open("img/index.json"))
m = [x for x in idx["manifests"] if x["annotations"]["org.opencontainers.image.ref.name"] == sys.argv[1]][0]
man = json.load(open("img/blobs/sha256/" + m["digest"].split(":")[1]))
print(" ".join("img/blobs/sha256/" + l["digest"].split(":")[1] + "@" + l["digest"] for l in man["layers"]))
PY
  }
  layers l3 > chain.txt
  [ "$(wc -w < chain.txt)" = 3 ] || { echo "expected 3 layers in l3: $(cat chain.txt)" >&2; exit 1; }
  gzip -dc "$(layers l1 | cut -d@ -f1)" > layer.tar
  rm -rf bundle
)
gzip -6 -c "$work/in/layer.tar" > "$work/in/layer.tar.gz"
zstd -q -3 -c "$work/in/layer.tar" > "$work/in/layer.tar.zst"
chain=$(cd "$work/in" && for l in $(cat chain.txt); do echo -n "$work/in/$l "; done)

fresh_fs() {
  mountpoint -q "$work/fs" && umount "$work/fs"
  rm -f "$img"; truncate -s 16G "$img"; mkfs.ext4 -q -F "$img"; mount -o loop "$img" "$work/fs"
}

# Digests are declared, as the agent always does: each blob is then read once.
d() { echo "$1@sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }
cli="${jvm[*]} -XX:AOTCache=$cache -jar $jar materialize --state-dir OUT"
declare -A cmds=(
  [tar-posix]="tar -xf $work/in/posix.tar -C OUT"
  [strata-posix]="$cli $(d $work/in/posix.tar)"
  [tar]="tar -xf $work/in/layer.tar -C OUT"
  [strata-tar]="$cli $(d $work/in/layer.tar)"
  [tar-gz]="tar -xzf $work/in/layer.tar.gz -C OUT"
  [strata-gz]="$cli $(d $work/in/layer.tar.gz)"
  [tar-zstd]="tar --zstd -xf $work/in/layer.tar.zst -C OUT"
  [strata-zstd]="$cli $(d $work/in/layer.tar.zst)"
  [strata-tar-nocache]="${jvm[*]} -jar $jar materialize --state-dir OUT $(d $work/in/layer.tar)"
  [umoci-3]="umoci unpack --image $work/in/img:l3 OUT"
  [strata-3]="$cli $chain"
)
pairs=("tar strata-tar" "tar strata-tar-nocache" "tar-gz strata-gz" "tar-zstd strata-zstd" "tar-posix strata-posix" "umoci-3 strata-3")
results="$work/results.tsv"; : > "$results"
# Runs command NAME, prefixed by the rest of the arguments, then sync. Each command on a filesystem
# of its own: on one that earlier commands of the round had filled, GNU tar took 0.3-0.5 s longer
# (session 13).
run() {
  local name=$1 out="$work/fs/$1"; shift
  fresh_fs
  [ "$name" = "umoci-3" ] || mkdir -p "$out"
  sync; echo 3 > /proc/sys/vm/drop_caches
  "$@" bash -c "${cmds[$name]//OUT/$out} >/dev/null && sync"
}
for round in $(seq "$rounds"); do
  for pair in "${pairs[@]}"; do
    # GNU tar on the plain layer, untimed, before each pair, so that every pair starts after the
    # same kind of command. The first command after the 3-layer pair runs slower than usual (GNU
    # tar's plain layer 0.5-1.7 s after umoci's chain, after a 30 s pause or memory compaction too;
    # Strata's about 0.2 s after its own), and the one after that does not (session 14). With the
    # order alternating, that fell on Strata's plain layer in three rounds and on GNU tar's in two:
    # three of Strata's six runs against two of tar's twelve.
    run tar
    # Whichever of a pair runs second finds the disk still busy with, or rested from, the other's
    # writes (session 7: 0.3-0.5 s slower; session 11: tar's plain layer 0.1-0.7 s faster), so
    # the order within each pair alternates from round to round.
    read -r first second <<< "$pair"
    if (( round % 2 == 0 )); then read -r second first <<< "$pair"; fi
    for name in "$first" "$second"; do
      run "$name" /usr/bin/time -f "%e %M" -o "$work/time.txt"
      read -r secs rss < "$work/time.txt"
      printf '%s\t%s\t%s\n' "$name" "$secs" "$rss" >> "$results"
    done
  done
done
# The hardlink copy, warm and in-process, against cp -al on the same committed root.
fresh_fs
"${jvm[@]}" -jar "$jar" materialize --state-dir "$work/fs/committed" "$(d "$work/in/layer.tar")" >/dev/null
root=$(ls -d "$work/fs"/committed/layers/*/root)
test_cp=$(bench_classpath)
java -cp "$test_cp" io.strata.bench.HardlinkCopyBenchmark "$root" "$work/fs/links" 7 >> "$results"
# The plain and the zstd layer again, each in a JVM that has materialized it before (as a running
# agent has), with the agent's flags, against tar on a fresh filesystem: what the engine costs
# without JVM start.
fresh_fs
"${jvm[@]}" -cp "$test_cp" io.strata.bench.WarmMaterializeBenchmark "$work/in/layer.tar" "$work/fs" "$rounds" >> "$results"
fresh_fs
"${jvm[@]}" -cp "$test_cp" io.strata.bench.WarmMaterializeBenchmark "$work/in/layer.tar.zst" "$work/fs" "$rounds" -zstd >> "$results"
# Peak memory for a layer of more than 1 GiB: the root plus 320 MiB of incompressible data.
mkdir -p "$work/in/big"; head -c 320M /dev/urandom > "$work/in/big/random.bin"
cp "$work/in/layer.tar" "$work/in/big.tar"; tar -rf "$work/in/big.tar" -C "$work/in/big" random.bin
echo "1GiB layer: $(du -m "$work/in/big.tar" | cut -f1) MiB" >&2
fresh_fs; mkdir -p "$work/fs/strata-1g"
/usr/bin/time -f "%e %M" -o "$work/time.txt" "${jvm[@]}" -jar "$jar" materialize --state-dir "$work/fs/strata-1g" "$(d "$work/in/big.tar")" >/dev/null
read -r secs rss < "$work/time.txt"; printf 'strata-1GiB\t%s\t%s\n' "$secs" "$rss" >> "$results"
fresh_fs; mkdir -p "$work/fs/strata-1g"
/usr/bin/time -f "%e %M" -o "$work/time.txt" "${jvm[@]}" -XX:AOTCache="$cache" -jar "$jar" materialize --state-dir "$work/fs/strata-1g" "$(d "$work/in/big.tar")" >/dev/null
read -r secs rss < "$work/time.txt"; printf 'strata-1GiB-cache\t%s\t%s\n' "$secs" "$rss" >> "$results"
rm -rf "$work/in/big" "$work/in/big.tar"

umount "$work/fs"; rm -f "$img"

python3 - "$results" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(lambda: ([], []))
for line in open(sys.argv[1]):
    name, secs, rss = line.split("\t")
    rows[name][0].append(float(secs)); rows[name][1].append(int(rss))
med = {k: statistics.median(v[0]) for k, v in rows.items()}
print(f"{'command':22} {'median s':>9} {'peak RSS MiB':>13}")
for k, (t, r) in rows.items():
    print(f"{k:22} {statistics.median(t):9.3f} {max(r)/1024:13.1f}")
for a, b in [("strata-tar", "tar"), ("strata-tar-nocache", "tar"), ("strata-gz", "tar-gz"), ("strata-zstd", "tar-zstd"), ("strata-posix", "tar-posix"), ("strata-3", "umoci-3"), ("strata-links", "cp-al"), ("strata-warm", "tar-beside-warm"), ("strata-warm-zstd", "tar-beside-warm-zstd")]:
    if a in med and b in med:
        print(f"ratio {a} / {b}: {med[a] / med[b]:.2f}")
PY
