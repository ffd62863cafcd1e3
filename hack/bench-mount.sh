#!/usr/bin/env bash
# Benchmark: mount+unmount through Strata's engine against util-linux mount/umount, in one run.
# Run as root. Usage: hack/bench-mount.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/env.sh
./mvnw -B -q -ntp test-compile
cp_file=operator/target/test-classpath.txt
./mvnw -B -q -ntp -pl operator dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/$cp_file"
java -cp "operator/target/test-classes:operator/target/classes:$(cat "$cp_file")" \
  io.strata.bench.MountBenchmark "${1:-200}"
