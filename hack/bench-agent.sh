#!/usr/bin/env bash
# Benchmark: OverlayMount latency through the agent (a process of its own) on the local control
# plane. Run as root. Usage: hack/bench-agent.sh [SEQUENTIAL] [BATCH]   (defaults 100 200)
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/env.sh
source hack/bench-lib.sh
./mvnw -B -q -ntp test-compile
classpath=$(bench_classpath)
java -Dstrata.projectRoot="$PWD" -cp "$classpath" \
  io.strata.bench.AgentLatencyBenchmark "${1:-100}" "${2:-200}"
