#!/usr/bin/env bash
# The main job on one machine: a real local cluster (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler) and a real node of this machine (containerd, runc, kubelet) by hack/node.sh;
# Strata installed on it by Helm from charts/strata, its agent and controller running as pods of
# the image Jib builds; the examples applied with kubectl; a pod that reads the example overlay,
# and one with a Strata volume of the example LayerSet. Runs until interrupted; Ctrl-C brings it all down. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/env.sh
root=$(pwd)

mount_base=${STRATA_MOUNT_BASE:-/mnt/strata}
run_dir=${STRATA_RUN_DIR:-$root/.run}
node_dir=$run_dir/node
mkdir -p "$run_dir"

hack/install-prerequisites.sh
hack/build-control-plane.sh
hack/build-image-base.sh >/dev/null
hack/build-node-images.sh
./mvnw -B -q -ntp package -Pimage -DskipTests

layers_pid= sleeper=
cleanup() {
  echo "stopping the node and the control plane"
  for pid in $layers_pid $sleeper; do kill "$pid" 2>/dev/null || true; done
  hack/node.sh down "$node_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

hack/node.sh up "$node_dir" "$mount_base"
source "$node_dir/env"
export KUBECONFIG=$node_dir/kubeconfig
kubectl() { "$STRATA_KUBE_BIN/kubectl" "$@"; }
helm() { "$KUBE_API_TEST_DIR/bin/helm" "$@"; }

# Strata as docs/install.md installs it, with the values a node without a pod network needs
# (the host's network, the API server on loopback; docs/install.md lists them).
image=operator/target/strata-image.tar
image_ref=$(tar -xOf "$image" manifest.json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["RepoTags"][0])')
hack/node.sh import "$node_dir" "$image"
kubectl create namespace strata-system
kubectl label namespace strata-system pod-security.kubernetes.io/enforce=privileged
helm install strata charts/strata --namespace strata-system \
  --set image.repository="${image_ref%:*}" --set image.tag="${image_ref##*:}" \
  --set image.pullPolicy=Never --set agent.mountBase="$mount_base" \
  --set csi.kubeletDir="$node_dir/kubelet" \
  --set agent.hostNetwork=true --set controller.hostNetwork=true \
  --set apiServer.host=127.0.0.1 --set apiServer.port="$API_SERVER_PORT" \
  --set agent.httpPort=18091 --set controller.httpPort=18092 --set controller.replicas=1 \
  --set fetch.allowLoopback=true \
  --wait --timeout 5m

# The example layers, served on the node's loopback where examples/layerset.yaml points.
python3 -m http.server --bind 127.0.0.1 --directory examples/layers 18080 >"$run_dir/layers-http.log" 2>&1 &
layers_pid=$!
kubectl apply --server-side -f examples/
kubectl wait --for=jsonpath='{.status.readyNodes}'=1 overlaymount/example --timeout=120s

# The pod docs/install.md shows, with this node's image, host network and mount base.
awk '/\(NodeScenario\) runs this pod/ {m = 1} m && /^```yaml$/ {p = 1; next} p && /^```$/ {exit} p' \
  docs/install.md |
  kubectl create --dry-run=client -o json -f - |
  python3 -c '
import json, sys
pod = json.load(sys.stdin)
pod["spec"]["hostNetwork"] = True
for c in pod["spec"]["containers"]:
    c["image"], c["imagePullPolicy"] = "strata-busybox:1", "Never"
pod["spec"]["volumes"][0]["hostPath"]["path"] = sys.argv[1] + "/example"
json.dump(pod, sys.stdout)' "$mount_base" |
  kubectl apply -f -
kubectl wait --for=condition=Ready pod/example-reader --timeout=120s

# A pod with a Strata volume of its own (docs/volumes.md): the example LayerSet lets the default
# namespace mount it, and the pod writes into its own upper.
kubectl patch layerset example --type=merge \
  -p '{"spec":{"volumeAccess":{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"default"}}}}}'
kubectl apply -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: volume-reader
spec:
  hostNetwork: true
  securityContext: {runAsNonRoot: true, runAsUser: 1000, fsGroup: 2000}
  containers:
  - name: reader
    image: strata-busybox:1
    imagePullPolicy: Never
    command: [sh, -c, "cat /tools/usr/share/greeting/app.txt; echo mine > /tools/written; exec sleep 3600"]
    volumeMounts:
    - {name: tools, mountPath: /tools}
  volumes:
  - name: tools
    csi:
      driver: csi.strata.io
      volumeAttributes: {layerSet: example, medium: Memory, sizeLimit: 64Mi}
YAML
kubectl wait --for=condition=Ready pod/volume-reader --timeout=120s

echo
kubectl get lset,om,nls,pods -A
echo
echo "example-reader says: $(kubectl logs example-reader)"
echo "volume-reader says: $(kubectl logs volume-reader)"
cat <<MSG

Strata runs on a real node of this machine: its agent and controller are pods (kubectl -n
strata-system get pods), and example-reader reads the example overlay at $mount_base/example.
  export KUBECONFIG=$KUBECONFIG
  $STRATA_KUBE_BIN/kubectl get lset,om,nls,pods -A
Logs: kubectl logs; the node's daemons in $node_dir/logs. Press Ctrl-C to stop.
MSG
sleep infinity &
sleeper=$!
wait "$sleeper"
