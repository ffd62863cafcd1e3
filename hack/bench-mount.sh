#!/usr/bin/env bash
# Benchmark: mount+unmount through Strata's engine against util-linux mount/umount, in one run.
# Run as root. Usage: hack/bench-mount.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/env.sh
source hack/bench-lib.sh
./mvnw -B -q -ntp test-compile
classpath=$(bench_classpath)
java -cp "$classpath" \
  io.strata.bench.MountBenchmark "${1:-200}"
