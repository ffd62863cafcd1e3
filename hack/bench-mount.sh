#!/usr/bin/env bash
# Benchmark: mount+unmount through Strata's engine against util-linux mount/umount, in one run,
# on a node with no other Strata mounts and again with OTHERS (default 500) of them.
# Run as root. Usage: hack/bench-mount.sh [ROUNDS] [OTHERS]
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/env.sh
source hack/bench-lib.sh
./mvnw -B -q -ntp test-compile
classpath=$(bench_classpath)
for others in 0 "${2:-500}"; do
  java -cp "$classpath" io.strata.bench.MountBenchmark "${1:-200}" "$others" 2>/dev/null
done
