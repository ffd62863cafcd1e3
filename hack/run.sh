#!/usr/bin/env bash
# The main job on one machine: a real local control plane (kube-apiserver and etcd), Strata's CRDs,
# the controller and an agent for this machine, and the examples applied. Runs until interrupted.
# Run as root: the agent owns /var/lib/strata and mounts under /mnt/strata.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/env.sh
root=$(pwd)

state_dir=${STRATA_STATE_DIR:-/var/lib/strata}
mount_base=${STRATA_MOUNT_BASE:-/mnt/strata}
node=${NODE_NAME:-$(hostname)}
run_dir=${STRATA_RUN_DIR:-$root/.run}
kubeconfig=$run_dir/kubeconfig
mkdir -p "$run_dir"

hack/install-prerequisites.sh
hack/build-control-plane.sh
./mvnw -B -q -ntp package -DskipTests
./mvnw -B -q -ntp -pl operator dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile="$run_dir/test-classpath.txt"

pids=()
cleanup() {
  echo "stopping Strata and the control plane"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The mount base must be a shared mount so that mounts made by the agent reach the host (and, in
# a cluster, pods). Bind it onto itself, private first so it leaves any shared parent's group.
mkdir -p "$mount_base"
if ! findmnt -n -o PROPAGATION --target "$mount_base" --mountpoint "$mount_base" 2>/dev/null | grep -q shared; then
  mountpoint -q "$mount_base" || mount --bind "$mount_base" "$mount_base"
  mount --make-private "$mount_base"
  mount --make-shared "$mount_base"
fi

rm -f "$kubeconfig"
java -Dstrata.projectRoot="$root" \
  -cp "$root/operator/target/test-classes:$root/operator/target/classes:$(cat "$run_dir/test-classpath.txt")" \
  io.strata.testing.LocalControlPlane "$kubeconfig" >"$run_dir/control-plane.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 180); do [ -s "$kubeconfig" ] && break; sleep 1; done
[ -s "$kubeconfig" ] || { echo "the control plane did not start; see $run_dir/control-plane.log" >&2; exit 1; }
export KUBECONFIG=$kubeconfig
kubectl() { "$STRATA_KUBE_BIN/kubectl" "$@"; }

# No kubelet runs here: register this machine as a Node so that selectors have something to match.
kubectl apply --server-side -f - >/dev/null <<YAML
apiVersion: v1
kind: Node
metadata:
  name: $node
  labels:
    kubernetes.io/hostname: $node
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
YAML
# Strata's namespace (deploy/strata.yaml has the whole installation; here the processes run
# on this machine instead of as pods, so only the namespace for their Leases is needed).
kubectl apply --server-side -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata:
  name: strata-system
  labels:
    pod-security.kubernetes.io/enforce: privileged
YAML

# The example layers, served on loopback where examples/layerset.yaml points.
python3 -m http.server --bind 127.0.0.1 --directory examples/layers 18080 >"$run_dir/layers-http.log" 2>&1 &
pids+=($!)

# Each JVM as the chart runs it: its javaOptions, and glibc's arenas capped.
MALLOC_ARENA_MAX=2 JDK_JAVA_OPTIONS=$(chart_java_options controller) \
  java -jar operator/target/strata.jar controller --http-port 0 >"$run_dir/controller.log" 2>&1 &
pids+=($!)
MALLOC_ARENA_MAX=2 JDK_JAVA_OPTIONS=$(chart_java_options agent) NODE_NAME=$node \
  java -jar operator/target/strata.jar agent \
  --state-dir "$state_dir" --mount-base "$mount_base" --http-port 0 >"$run_dir/agent.log" 2>&1 &
pids+=($!)

kubectl apply --server-side -f examples/
for _ in $(seq 1 60); do
  kubectl get nls "$node" >/dev/null 2>&1 && break; sleep 1
done
sleep 2
kubectl get lset,om,nls

cat <<MSG

Strata is running against a local control plane.
  export KUBECONFIG=$kubeconfig
  $STRATA_KUBE_BIN/kubectl get lset,om,nls
Logs: $run_dir/{control-plane,controller,agent}.log. Press Ctrl-C to stop.
MSG
wait
