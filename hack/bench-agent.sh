#!/usr/bin/env bash
# Benchmark: OverlayMount latency through the agent (a process of its own) on the local control
# plane. Run as root. Usage: hack/bench-agent.sh [SEQUENTIAL] [BATCH]   (defaults 100 200)
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/env.sh
./mvnw -B -q -ntp test-compile
cp_file=operator/target/test-classpath.txt
./mvnw -B -q -ntp -pl operator dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/$cp_file"
java -Dstrata.projectRoot="$PWD" -cp "operator/target/test-classes:operator/target/classes:$(cat "$cp_file")" \
  io.strata.bench.AgentLatencyBenchmark "${1:-100}" "${2:-200}"
