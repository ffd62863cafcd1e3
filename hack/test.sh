#!/usr/bin/env bash
# Runs every test on this machine, from a fresh clone: installs what the tests need (Debian
# packages, the control-plane binaries built from Go modules), then the whole Maven build with its
# unit, root-only and real-API-server tests. Run as root: the mount tests need it.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/env.sh

hack/install-prerequisites.sh
hack/build-control-plane.sh
hack/build-test-rootfs.sh
hack/build-image-base.sh >/dev/null   # the base of the container image (profile image)
# kube-api-test's certificates last a year: make fresh ones for every full run.
rm -f "$KUBE_API_TEST_DIR"/{apiserver,client}.{crt,key}

# -Pimage: Jib builds the container image in the package phase and ImageIT runs it.
./mvnw -B -ntp verify -Pimage "$@"
# Then each fuzz target, coverage-guided, for a short while (the verify only replayed its inputs).
hack/fuzz.sh "${STRATA_FUZZ_DURATION:-20s}"
