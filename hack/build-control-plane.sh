#!/usr/bin/env bash
# Builds the real control plane and node that Strata's tests and its local run use, from the Go
# module proxy: kube-apiserver, etcd and kubectl into kube-api-test's default place, the node's
# kubelet, kube-scheduler and kube-controller-manager beside them (all from the same pinned module),
# helm, csi-sanity, and kstatus-check (hack/kstatus: what GitOps tools make of an object's status).
#
#   ${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}/k8s/<version>-linux-amd64/{kube-apiserver,etcd,kubectl}
#   ${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}/k8s/<version>-linux-amd64/{kubelet,kube-scheduler,kube-controller-manager}
#   ${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}/bin/helm
#   ${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}/bin/csi-sanity   (the CSI plugin's conformance tests)
#   ${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}/bin/kstatus-check   (sigs.k8s.io/cli-utils' kstatus)
#
# There is no Docker and no download of prebuilt binaries here, so everything is compiled. The module
# in hack/controlplane pins the versions (go.mod, go.sum); k8s.io/kubernetes needs its staging modules
# replaced by their published tags, which that go.mod does. Does nothing for a binary already present
# with the right version. With an empty Go build cache the Kubernetes binaries and etcd take about
# 5 minutes on 2 cores (the modules already downloaded).
set -euo pipefail

KUBE_VERSION=v1.36.3
HELM_VERSION=v3.21.4
CSI_SANITY_VERSION=v5.6.0

here=$(cd "$(dirname "$0")" && pwd)
base=${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}
out="$base/k8s/${KUBE_VERSION#v}-linux-amd64"
mkdir -p "$out" "$base/bin"

export PATH="/usr/local/go/bin:$PATH" GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

minor=$(echo "$KUBE_VERSION" | cut -d. -f2)
ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done


built() { # built BINARY EXPECTED ARGS...: true when BINARY exists and prints EXPECTED
  local bin=$1 expected=$2 printed; shift 2
  [ -x "$bin" ] || return 1
  # Capture first: `grep -q` in a pipe would close it early, and under pipefail the writer's
  # SIGPIPE would make a present binary look missing.
  printed=$("$bin" "$@" 2>/dev/null) || return 1
  [[ $printed == *"$expected"* ]]
}

kube_binary() { # kube_binary NAME VERSION-ARGS...: builds k8s.io/kubernetes/cmd/NAME unless present
  local name=$1; shift
  if built "$out/$name" "$KUBE_VERSION" "$@"; then
    echo "$name $KUBE_VERSION present in $out"
  else
    echo "building $name $KUBE_VERSION into $out"
    go build -trimpath -tags selinux,notest -ldflags "$ldflags" -o "$out/$name" "k8s.io/kubernetes/cmd/$name"
  fi
}

cd "$here/controlplane"
kube_binary kube-apiserver --version
kube_binary kubectl version --client
kube_binary kube-controller-manager --version
kube_binary kube-scheduler --version
kube_binary kubelet --version
etcd_version=$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
if built "$out/etcd" "${etcd_version#v}" --version; then
  echo "etcd $etcd_version present in $out"
else
  echo "building etcd $etcd_version into $out"
  go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3
fi

if built "$base/bin/helm" "$HELM_VERSION" version --short; then
  echo "helm $HELM_VERSION present in $base/bin"
else
  echo "building helm $HELM_VERSION into $base/bin"
  (cd / && GOFLAGS= GOBIN="$base/bin" go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION")
fi

if built "$base/bin/csi-sanity" "$CSI_SANITY_VERSION" -version; then
  echo "csi-sanity $CSI_SANITY_VERSION present in $base/bin"
else
  echo "building csi-sanity $CSI_SANITY_VERSION into $base/bin"
  (cd / && GOFLAGS= GOBIN="$base/bin" go install -trimpath \
    -ldflags "-s -w -X main.VERSION=$CSI_SANITY_VERSION" \
    "github.com/kubernetes-csi/csi-test/v5/cmd/csi-sanity@$CSI_SANITY_VERSION")
fi

# Versioned by a digest of its module, so an edit rebuilds it.
kstatus_version=$(cat "$here/kstatus/go.mod" "$here/kstatus/go.sum" "$here/kstatus/main.go" | sha256sum | cut -c1-12)
if built "$base/bin/kstatus-check" "$kstatus_version" -version; then
  echo "kstatus-check $kstatus_version present in $base/bin"
else
  echo "building kstatus-check $kstatus_version into $base/bin"
  (cd "$here/kstatus" && go build -trimpath -ldflags "-s -w -X main.version=$kstatus_version" \
    -o "$base/bin/kstatus-check" .)
fi
