#!/usr/bin/env bash
# The helm template arguments that render deploy/ (shared by hack/render-deploy.sh and ChartIT).
echo --namespace strata-system --no-hooks --set namespace.create=true \
  --api-versions admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy
