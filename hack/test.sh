#!/usr/bin/env bash
# Runs every test on this machine, from a fresh clone: installs what the tests need (Debian
# packages, the control-plane and node binaries built from Go modules, the node's images), then
# the whole Maven build with its unit, root-only, real-API-server and real-node tests. Run as
# root: the mount tests and the node need it. Nothing a test needs may be missing here: such a
# test fails instead of skipping (STRATA_REQUIRE_ALL), and check-skips.sh fails the run on any
# skip hack/allowed-skips.txt does not list.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/env.sh

hack/install-prerequisites.sh
hack/build-control-plane.sh
hack/build-test-rootfs.sh
hack/build-image-base.sh >/dev/null   # the base of the container image (profile image)
hack/build-node-images.sh             # the pause and busybox images of the real node
# kube-api-test's certificates last a year: make fresh ones for every full run.
rm -f "$KUBE_API_TEST_DIR"/{apiserver,client}.{crt,key}

export STRATA_REQUIRE_ALL=1
rm -rf operator/target/surefire-reports operator/target/failsafe-reports
# -Pimage: Jib builds the container image in the package phase; ImageIT runs it, RealNodeIT
# installs it with Helm on a real node.
./mvnw -B -ntp verify -Pimage "$@"
hack/check-skips.sh
# Then each fuzz target, coverage-guided, for a short while (the verify only replayed its inputs).
hack/fuzz.sh "${STRATA_FUZZ_DURATION:-20s}"
