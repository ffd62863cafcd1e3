#!/usr/bin/env bash
# Fuzzes with Jazzer, coverage-guided, each target for DURATION (default 5m): the layer reader and
# writer, registry documents, mount requests. As root: the layer target unpacks owners and
# devices. A test run (hack/test.sh) only replays the committed inputs of each target; CI then
# runs this script with a short DURATION. A failing input is saved next to the target's inputs
# (src/test/resources/<package>/<Class>Inputs/<method>/) and replayed by every test run after it.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/env.sh
duration=${1:-5m}
targets=(
  "LayerFuzzTest#anyLayerIsAppliedOrRefusedAndNothingOutsideChanges"
  "RegistryDocumentsFuzzTest#documentsAreListedAsValidLayersOrRefusedWithAReason"
  "MountRequestFuzzTest#aPlanCarriesExactlyTheGivenPathsAndNoSmuggledOption"
  "MountRequestFuzzTest#aTargetIsAcceptedOnlyStrictlyBeneathTheBase"
)
for target in "${targets[@]}"; do
  echo "fuzz: $target for $duration"
  # Jazzer fuzzes one target per JVM; its findings fail the run.
  # JUnit's per-test deadline (junit-platform.properties) is off: max_duration bounds the run.
  JAZZER_FUZZ=1 ./mvnw -B -ntp -q test -Dtest="$target" \
    -Dsurefire.failIfNoSpecifiedTests=false -Djazzer.max_duration="$duration" \
    -Djunit.jupiter.execution.timeout.mode=disabled
done
echo "fuzz: ${#targets[@]} targets, $duration each, no finding"
