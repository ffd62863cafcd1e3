#!/usr/bin/env bash
# Benchmark: the controller against simulated nodes on the local control plane.
# Usage: hack/bench-controller.sh [NODES] [LAYERSETS]   (defaults 1000 50)
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/env.sh
source hack/bench-lib.sh
./mvnw -B -q -ntp package -DskipTests
classpath=$(bench_classpath)
java -Dstrata.projectRoot="$PWD" -cp "$classpath" \
  io.strata.bench.ControllerScaleBenchmark "${1:-1000}" "${2:-50}"
