#!/usr/bin/env bash
# Benchmark: the controller against simulated nodes on the local control plane.
# Usage: hack/bench-controller.sh [NODES] [LAYERSETS]   (defaults 1000 50)
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/env.sh
./mvnw -B -q -ntp package -DskipTests
cp_file=operator/target/test-classpath.txt
./mvnw -B -q -ntp -pl operator dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/$cp_file"
java -Dstrata.projectRoot="$PWD" -cp "operator/target/test-classes:operator/target/classes:$(cat "$cp_file")" \
  io.strata.bench.ControllerScaleBenchmark "${1:-1000}" "${2:-50}"
