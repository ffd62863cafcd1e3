#!/usr/bin/env bash
# Renders deploy/strata.yaml, the plain manifests, from charts/strata with its default values,
# plus what a plain `kubectl apply` needs that Helm users get otherwise: the namespace object
# (labelled for privileged pods) and the admission policy (Helm renders it only where the
# cluster serves it). No hooks: a plain apply has no uninstall step to run them at.
# ChartIT fails when deploy/ drifts from the chart; run this after changing the chart.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/env.sh
helm=${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}/bin/helm
"$helm" template strata charts/strata "$@" $(hack/render-deploy-args.sh) > deploy/strata.yaml
echo "wrote deploy/strata.yaml"
