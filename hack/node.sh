#!/usr/bin/env bash
# A real single-machine Kubernetes cluster for the tests and the main job: etcd, kube-apiserver,
# kube-controller-manager and kube-scheduler (built by hack/build-control-plane.sh), and one node
# of this machine: containerd and runc (Debian's) with kubelet. Everything listens on loopback and
# keeps its state under one directory.
#
#   hack/node.sh up DIR [MOUNT_BASE]   start it all; returns when the Node is Ready
#   hack/node.sh down DIR              stop it all, leaving no process, mount, cgroup, changed
#                                      sysctl or firewall chain behind
#   hack/node.sh import DIR TAR...     import docker-archive images into the node's containerd
#
# After `up`: DIR/kubeconfig (cluster-admin), DIR/env (API_SERVER_PORT, NODE_NAME, MOUNT_BASE,
# CONTAINERD_SOCKET), logs in DIR/logs. MOUNT_BASE (default DIR/mounts) is made a shared mount,
# so that overlays mounted beneath it reach pods; `down` unmounts everything beneath it.
#
# This node has no kube-proxy and no pod network: a loopback-only CNI configuration makes the
# runtime report NetworkReady, and pods that talk to the API server use the host's network and
# reach it on 127.0.0.1. Pods run only images imported here (strata-pause:1 is the sandbox,
# strata-busybox:1 a shell; hack/build-node-images.sh makes both); nothing is ever pulled.
#
# Run as root. `up` on a DIR whose last run was not brought down cleans that run up first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/env.sh"

usage() { echo "usage: hack/node.sh up DIR [MOUNT_BASE] | down DIR | import DIR TAR..." >&2; exit 2; }
[ $# -ge 2 ] || usage
command=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)
shift 2

bin=$STRATA_KUBE_BIN
images=${STRATA_TEST_CACHE:-$HOME/.cache/strata}/node-images
# kubelet changes these machine-wide; `up` saves them and `down` puts them back.
sysctls=(kernel.panic kernel.panic_on_oops vm.overcommit_memory)
# The order `down` stops daemons in after kubelet and the containers: the API server before etcd
# (otherwise it waits on etcd for about 20 s).
daemons=(containerd kube-scheduler kube-controller-manager kube-apiserver etcd)

log() { echo "node: $*" >&2; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME COMMAND...: a daemon in a session of its own (a Ctrl-C meant for the caller does not
# reach it, so `down` can stop everything in order), logging to DIR/logs/NAME.log.
start() {
  local name=$1; shift
  setsid "$@" </dev/null >"$dir/logs/$name.log" 2>&1 &
  echo $! >"$dir/pids/$name"
}

# wait_for WHAT SECONDS COMMAND...: until COMMAND succeeds, or fails naming WHAT and its log.
wait_for() {
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      log "$what did not come up within ${seconds}s; see $dir/logs"
      exit 1
    fi
    sleep 0.2
  done
}

kubectl() { "$bin/kubectl" --kubeconfig "$dir/kubeconfig" "$@"; }

# cert NAME CN O SANS: a key and a certificate signed by the cluster CA, for clients and servers.
cert() {
  local name=$1 cn=$2 org=$3 sans=$4 subject="/CN=$2"
  [ -n "$org" ] && subject="/O=$org/CN=$cn"
  openssl req -new -newkey rsa:2048 -nodes -subj "$subject" \
    -keyout "$dir/pki/$name.key" -out "$dir/pki/$name.csr" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n%s' \
    "${sans:+subjectAltName=$sans}" >"$dir/pki/$name.ext"
  openssl x509 -req -in "$dir/pki/$name.csr" -CA "$dir/pki/ca.crt" -CAkey "$dir/pki/ca.key" \
    -CAcreateserial -days 7 -extfile "$dir/pki/$name.ext" -out "$dir/pki/$name.crt" 2>/dev/null
}

# kubeconfig NAME: a kubeconfig for the client certificate NAME.
kubeconfig() {
  cat >"$dir/$1.kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: strata-node
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority: $dir/pki/ca.crt
users:
- name: $1
  user:
    client-certificate: $dir/pki/$1.crt
    client-key: $dir/pki/$1.key
contexts:
- name: $1
  context: {cluster: strata-node, user: $1}
current-context: $1
YAML
}

up() {
  local mount_base=${1:-$dir/mounts}
  [ "$(id -u)" = 0 ] || { log "run as root: kubelet, containerd and the mounts need it"; exit 1; }
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl; do
    [ -x "$bin/$b" ] || { log "no $bin/$b: run hack/build-control-plane.sh"; exit 1; }
  done
  for i in strata-pause strata-busybox; do
    [ -f "$images/$i.tar" ] || { log "no $images/$i.tar: run hack/build-node-images.sh"; exit 1; }
  done
  command -v containerd >/dev/null && command -v runc >/dev/null ||
    { log "containerd and runc are missing: run hack/install-prerequisites.sh"; exit 1; }
  node=$(hostname)
  # kubelet refuses a loopback node IP, so the API server reaches kubelet (logs, exec) by the
  # node's host name, which must therefore resolve to loopback: no traffic leaves the machine.
  case $(getent ahostsv4 "$node" | awk 'NR == 1 {print $1}') in
    127.*) ;;
    *) log "the host name $node does not resolve to a loopback address (add it to /etc/hosts)"; exit 1 ;;
  esac

  [ -d "$dir/pids" ] && down
  rm -rf "${dir:?}"/{pki,etcd,containerd,kubelet,cni,pod-logs,logs,pids,*.kubeconfig,kubeconfig,env}
  mkdir -p "$dir"/{pki,etcd,containerd,kubelet,cni,pod-logs,logs,pids} "$mount_base"
  [ -f "$dir/sysctls" ] || sysctl -e "${sysctls[@]}" | sed 's/ = /=/' >"$dir/sysctls"
  # kubelet adds firewall chains (KUBE-FIREWALL, KUBE-KUBELET-CANARY, ...): `down` puts the
  # rules back as they were.
  for family in iptables ip6tables; do
    if command -v "$family-save" >/dev/null && [ ! -f "$dir/$family.rules" ]; then
      "$family-save" >"$dir/$family.rules"
    fi
  done
  echo "$mount_base" >"$dir/mount-base"

  local etcd_port etcd_peer_port kubelet_port kubelet_healthz_port
  api_port=$(free_port) etcd_port=$(free_port) etcd_peer_port=$(free_port)
  kubelet_port=$(free_port) kubelet_healthz_port=$(free_port)

  log "certificates"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
    -subj /CN=strata-node-ca -keyout "$dir/pki/ca.key" -out "$dir/pki/ca.crt" 2>/dev/null
  cert apiserver kube-apiserver "" "IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters ""
  cert admin strata-node-admin system:masters ""
  cert controller-manager system:kube-controller-manager "" ""
  cert scheduler system:kube-scheduler "" ""
  cert kubelet "system:node:$node" system:nodes "DNS:$node,IP:127.0.0.1"
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/pki/sa.key"
  openssl ec -in "$dir/pki/sa.key" -pubout -out "$dir/pki/sa.pub" 2>/dev/null
  for c in admin controller-manager scheduler kubelet; do kubeconfig $c; done
  cp "$dir/admin.kubeconfig" "$dir/kubeconfig"

  log "etcd and kube-apiserver"
  start etcd "$bin/etcd" --name node --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "node=http://127.0.0.1:$etcd_peer_port" \
    --unsafe-no-fsync --quota-backend-bytes 2147483648
  start kube-apiserver "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --tls-cert-file "$dir/pki/apiserver.crt" --tls-private-key-file "$dir/pki/apiserver.key" \
    --client-ca-file "$dir/pki/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$dir/pki/sa.pub" --service-account-signing-key-file "$dir/pki/sa.key" \
    --service-cluster-ip-range 10.0.0.0/24 --endpoint-reconciler-type none \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction --allow-privileged \
    --kubelet-client-certificate "$dir/pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$dir/pki/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types Hostname --profiling=false
  wait_for kube-apiserver 120 kubectl get --raw /readyz

  log "kube-controller-manager and kube-scheduler"
  # The controller-manager makes each namespace's default ServiceAccount and the kube-root-ca.crt
  # ConfigMap that ServiceAccount tokens mount, and the DaemonSet's and Deployment's pods.
  start kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig "$dir/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$dir/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$dir/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false \
    --use-service-account-credentials \
    --service-account-private-key-file "$dir/pki/sa.key" --root-ca-file "$dir/pki/ca.crt"
  start kube-scheduler "$bin/kube-scheduler" --kubeconfig "$dir/scheduler.kubeconfig" \
    --authentication-kubeconfig "$dir/scheduler.kubeconfig" \
    --authorization-kubeconfig "$dir/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false

  log "containerd"
  cat >"$dir/cni/10-loopback.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "strata-loopback", "plugins": [{"type": "loopback"}]}
JSON
  cat >"$dir/containerd/config.toml" <<TOML
version = 2
root = "$dir/containerd/root"
state = "$dir/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$dir/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "strata-pause:1"
  # This machine's bounding set lacks CAP_SYS_RESOURCE: runc may only raise oom_score_adj.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/containerd/opt"
TOML
  start containerd containerd --config "$dir/containerd/config.toml"
  wait_for containerd 60 ctr_ version
  import "$images/strata-pause.tar" "$images/strata-busybox.tar"

  log "the shared mount base $mount_base"
  # Mounts the agent makes beneath it must reach pods (HostToContainer, Bidirectional): a shared
  # mount of its own, private first so that it leaves any shared parent's peer group.
  mountpoint -q "$mount_base" || mount --bind "$mount_base" "$mount_base"
  mount --make-private "$mount_base"
  mount --make-shared "$mount_base"

  log "kubelet (node $node)"
  cat >"$dir/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $kubelet_port
healthzBindAddress: 127.0.0.1
healthzPort: $kubelet_healthz_port
readOnlyPort: 0
tlsCertFile: $dir/pki/kubelet.crt
tlsPrivateKeyFile: $dir/pki/kubelet.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $dir/pki/ca.crt}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://$dir/containerd/containerd.sock
podLogsDir: $dir/pod-logs
# This machine mounts cgroup v1 hierarchies and has no systemd, and may have swap.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
# The images here cannot be pulled again: never collect them. Evict only on a nearly full disk.
imageGCHighThresholdPercent: 100
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
serializeImagePulls: false
YAML
  start kubelet "$bin/kubelet" --config "$dir/kubelet/config.yaml" \
    --kubeconfig "$dir/kubelet.kubeconfig" --root-dir "$dir/kubelet" --cert-dir "$dir/kubelet/pki"
  wait_for "the Node $node" 120 kubectl get node "$node"
  kubectl wait --for=condition=Ready "node/$node" --timeout=120s >/dev/null
  wait_for "the default ServiceAccount" 60 kubectl -n default get serviceaccount default

  cat >"$dir/env" <<ENV
API_SERVER_PORT=$api_port
NODE_NAME=$node
MOUNT_BASE=$mount_base
CONTAINERD_SOCKET=$dir/containerd/containerd.sock
ENV
  log "ready: export KUBECONFIG=$dir/kubeconfig"
}

ctr_() { ctr --address "$dir/containerd/containerd.sock" "$@"; }

import() {
  for tar in "$@"; do
    ctr_ -n k8s.io images import --no-unpack=false "$tar" >/dev/null ||
      { log "importing $tar failed"; exit 1; }
  done
}

# running PID: the process exists and has not exited (an exited daemon stays a zombie until
# init, its parent since `up` returned, reaps it).
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  [ "$(echo "${stat##*) }" | cut -d' ' -f1)" != Z ]
}

# stop NAME: SIGTERM, then SIGKILL after a grace period, and wait until it is gone.
stop() {
  local pid_file=$dir/pids/$1 pid started=$SECONDS
  [ -f "$pid_file" ] || return 0
  pid=$(cat "$pid_file")
  if running "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do running "$pid" || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do running "$pid" || break; sleep 0.1; done
  fi
  [ $((SECONDS - started)) -lt 5 ] || log "$1 took $((SECONDS - started))s to stop"
  rm -f "$pid_file"
}

# restore_firewall FAMILY: FAMILY's rules as `up` saved them. A table that was not loaded then
# is emptied (its chains flushed and deleted); the others are restored whole. Fails when a KUBE-
# chain that was not there before is left.
restore_firewall() {
  local family=$1 saved=$dir/$1.rules
  [ -f "$saved" ] || return 0
  for table in filter nat mangle raw; do
    if ! grep -q "^\*$table\$" "$saved"; then
      "$family" -t "$table" -F 2>/dev/null || true
      "$family" -t "$table" -X 2>/dev/null || true
    fi
  done
  "$family-restore" <"$saved"
  local before after
  before=$(grep -c '^:KUBE-' "$saved" || true)
  after=$("$family-save" | grep -c '^:KUBE-' || true)
  rm -f "$saved"
  [ "$after" -le "$before" ]
}

down() {
  local mount_base
  mount_base=$(cat "$dir/mount-base" 2>/dev/null || echo "$dir/mounts")
  # kubelet first, so that it restarts nothing; then every process in a cgroup it made (the
  # containers), their shims, and the daemons.
  stop kubelet
  local cgroups procs
  cgroups=$(find /sys/fs/cgroup -maxdepth 2 -type d -name 'kubepods*' 2>/dev/null || true)
  for _ in $(seq 1 50); do
    # A cgroup can go while it is read (its pod just died): find then fails, which is no reason
    # to stop tearing down.
    procs=$({ [ -z "$cgroups" ] || find $cgroups -name cgroup.procs -exec cat {} +; } 2>/dev/null || true)
    [ -n "$procs" ] || break
    kill -KILL $procs 2>/dev/null || true
    sleep 0.1
  done
  pkill -KILL -f "containerd-shim-runc-v2 .*-address $dir/containerd/containerd.sock" 2>/dev/null || true
  for d in "${daemons[@]}"; do stop "$d"; done
  # Every mount beneath the node's directories, deepest first (pod volumes, container roots,
  # sandbox shm, kubelet's shared root dir, overlays beneath the mount base, the base itself).
  local targets
  for _ in 1 2 3; do
    targets=$(findmnt -rn -o TARGET | awk -v d="$dir/" -v m="$mount_base" \
      'index($0, d) == 1 || $0 == m || index($0, m "/") == 1' | sort -r)
    [ -n "$targets" ] || break
    while read -r t; do umount "$t" 2>/dev/null || umount -l "$t" 2>/dev/null || true; done <<<"$targets"
  done
  if [ -n "$targets" ]; then log "still mounted: $targets"; fi
  # The network namespaces containerd made for pods without the host's network.
  for ns in /run/netns/cni-*; do
    [ -e "$ns" ] || continue
    umount "$ns" 2>/dev/null || true
    rm -f "$ns"
  done
  # The cgroups kubelet made, deepest first.
  if [ -n "$cgroups" ]; then
    find $cgroups -depth -type d -exec rmdir {} + 2>/dev/null || true
  fi
  local left=()
  if [ -f "$dir/sysctls" ]; then
    sysctl -q -w $(cat "$dir/sysctls") >/dev/null
    for setting in $(cat "$dir/sysctls"); do
      [ "$(sysctl -n "${setting%%=*}")" = "${setting#*=}" ] || left+=("sysctl ${setting%%=*}")
    done
    rm -f "$dir/sysctls"
  fi
  for family in iptables ip6tables; do
    restore_firewall "$family" || left+=("$family rules")
  done
  rm -rf "$dir/pids"

  # What must be gone, checked: a teardown that leaves something behind fails.
  [ -z "$targets" ] || left+=("mounts: $targets")
  for d in "${daemons[@]}" kubelet; do
    pgrep -f "$bin/$d .*$dir/|^$d --config $dir/" >/dev/null && left+=("a $d process")
  done
  pgrep -f "containerd-shim-runc-v2 .*-address $dir/" >/dev/null && left+=("containerd shims")
  [ -z "$(find /sys/fs/cgroup -maxdepth 2 -type d -name 'kubepods*' 2>/dev/null)" ] ||
    left+=("kubelet's cgroups")
  if [ ${#left[@]} -gt 0 ]; then
    log "left behind: ${left[*]}"
    exit 1
  fi
  log "down"
}

case $command in
  up) up "$@" ;;
  down) down ;;
  import) [ $# -ge 1 ] || usage; import "$@" ;;
  *) usage ;;
esac
