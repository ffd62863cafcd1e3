#!/usr/bin/env bash
# Runs the fuzz properties (the layer reader and writer, registry documents, mount requests) for
# longer than the test run does: hack/fuzz.sh [TRIES] (default 20,000 inputs per property). As root:
# the layer properties unpack owners and devices. A failure prints its seed and the shrunk input;
# add it as a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/env.sh
tries=${1:-20000}
./mvnw -B -ntp -q test -Dtest='*FuzzTest' -Dsurefire.failIfNoSpecifiedTests=false \
  -Djqwik.tries.default="$tries"
echo "fuzz: ${tries} inputs per property, no failure"
