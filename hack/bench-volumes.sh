#!/usr/bin/env bash
# Benchmark: pod volumes, in one run.
# 1. NodePublishVolume and NodeUnpublishVolume through the plugin's socket (a Ready LayerSet),
#    Memory and Disk, against the same volume made by hand with mount, mke2fs and umount
#    (io.strata.bench.VolumeBenchmark).
# 2. On the real node hack/run.sh brings up (Strata installed by Helm): pod create to Ready with a
#    Strata volume against the same pod with an emptyDir, one at a time and interleaved; then
#    BURST of each created at once, to the last one Ready.
# Run as root. Usage: hack/bench-volumes.sh [ROUNDS] [PODS] [BURST]   (defaults 200 20 50)
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/env.sh
source hack/bench-lib.sh
rounds=${1:-200} pods=${2:-20} burst=${3:-50}

./mvnw -B -q -ntp test-compile
classpath=$(bench_classpath)
java --enable-native-access=ALL-UNNAMED -cp "$classpath" io.strata.bench.VolumeBenchmark "$rounds"

run_dir=$PWD/.run/bench-volumes
mkdir -p "$run_dir"
STRATA_RUN_DIR=$run_dir hack/run.sh >"$run_dir/run.log" 2>&1 &
run_pid=$!
# run.sh brings everything down when it is told to stop.
trap 'kill -TERM "$run_pid" 2>/dev/null || true; wait "$run_pid" 2>/dev/null || true' EXIT
until grep -q "Press Ctrl-C to stop" "$run_dir/run.log"; do
  kill -0 "$run_pid" 2>/dev/null || { tail -50 "$run_dir/run.log"; exit 1; }
  sleep 2
done
export KUBECONFIG=$run_dir/node/kubeconfig
kubectl() { "$STRATA_KUBE_BIN/kubectl" "$@"; }
node=$(kubectl get nodes -o jsonpath='{.items[0].metadata.name}')
kubectl patch layerset example --type=merge \
  -p '{"spec":{"volumeAccess":{"namespaceSelector":{}}}}' >/dev/null

pod() { # pod NAME strata|emptydir: a pod reading /tools, its volume a Strata one or an emptyDir
  local volume
  if [ "$2" = strata ]; then
    volume='{"name":"tools","csi":{"driver":"csi.strata.io","volumeAttributes":{"layerSet":"example"}}}'
  else
    volume='{"name":"tools","emptyDir":{}}'
  fi
  cat <<JSON
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"$1","labels":{"bench":"volumes"}},
 "spec":{"nodeName":"$node","hostNetwork":true,"terminationGracePeriodSeconds":0,
  "containers":[{"name":"app","image":"strata-busybox:1","imagePullPolicy":"Never",
   "command":["sh","-c","ls /tools >/dev/null && exec sleep 3600"],
   "volumeMounts":[{"name":"tools","mountPath":"/tools"}]}],
  "volumes":[$volume]}}
JSON
}
now_ms() { date +%s%3N; }
stats() { # stats LABEL < milliseconds, one per line
  python3 -c '
import sys
xs = sorted(float(l) for l in sys.stdin if l.strip())
p = lambda q: xs[min(len(xs) - 1, len(xs) * q // 100)]
print(f"{sys.argv[1]:<40} n={len(xs):<4} p50={p(50):8.0f} ms  p99={p(99):8.0f} ms")' "$1"
}

: >"$run_dir/strata.ms"
: >"$run_dir/emptydir.ms"
for i in $(seq 1 "$pods"); do
  for kind in strata emptydir; do
    start=$(now_ms)
    pod "b-$kind-$i" "$kind" | kubectl create -f - >/dev/null
    kubectl wait --for=condition=Ready "pod/b-$kind-$i" --timeout=120s >/dev/null
    echo $(($(now_ms) - start)) >>"$run_dir/$kind.ms"
    kubectl delete pod "b-$kind-$i" --wait=true >/dev/null
  done
done
echo
echo "pod create to Ready, one at a time, interleaved"
stats "with a Strata volume (Disk, default size)" <"$run_dir/strata.ms"
stats "with an emptyDir" <"$run_dir/emptydir.ms"

for kind in strata emptydir; do
  start=$(now_ms)
  for i in $(seq 1 "$burst"); do pod "burst-$kind-$i" "$kind"; done |
    kubectl create -f - >/dev/null
  kubectl wait --for=condition=Ready pod -l bench=volumes --timeout=300s >/dev/null
  echo "$burst pods with $kind volumes created at once: the last Ready after $(($(now_ms) - start)) ms"
  kubectl delete pod -l bench=volumes --wait=true >/dev/null
done
