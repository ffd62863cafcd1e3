#!/usr/bin/env bash
# Installs the Debian packages Strata's tests and local run use, when missing. Idempotent.
set -euo pipefail

packages=(
  util-linux   # mount, umount, findmnt: preparing the shared mount base
  e2fsprogs    # mkfs.ext4: the layer tests' own small filesystems, the benchmark's fresh ext4
  libfuse2     # FUSE for FaultyDisk, the tests' disk that returns EIO on demand
  python3      # serves the example layers on loopback in hack/run.sh
  ca-certificates
  libnettle8     # SHA-256 of every layer byte (io.strata.sys.Sha256); Sha256Test needs it
  tar gzip zstd  # real archives for the layer tests, and the benchmark's reference
  attr           # setfattr/getfattr: xattrs in test images
  libcap2-bin    # setcap: security.capability in test images
  umoci          # builds and unpacks OCI images: the reference for layer semantics
  skopeo         # copies images into registries (registry tests)
  docker-registry  # the CNCF distribution registry, started on loopback by the registry tests
  apache2-utils  # htpasswd -B: bcrypt credentials for the registry basic-auth tests
  openssl        # certificates for the registry TLS and token-auth tests
  tinyproxy      # a real HTTP proxy for the download-through-a-proxy tests
  debootstrap    # a real root filesystem to layer
  faketime       # a JVM clock just before midnight, for the test control plane's start-up
  containerd runc  # the real node's container runtime (kubelet talks to containerd's CRI plugin)
  containernetworking-plugins  # the node's loopback-only CNI network: pods use the host's network
  busybox-static   # the pods' images on the real node, made locally: nothing is pulled
  iptables         # kubelet adds its firewall chains with it; hack/node.sh down takes them out
  lua5.1           # the Lua of Argo CD's health scripts: docs/health/*.lua are tested with it
  prometheus       # promtool: checks and unit-tests the alerting rules, lints real scrapes
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The tests start their own tinyproxy on a free port, and need only promtool of Prometheus:
  # the packaged services are not wanted.
  for service in tinyproxy prometheus prometheus-node-exporter; do
    if command -v systemctl >/dev/null && systemctl is-enabled "$service" >/dev/null 2>&1; then
      systemctl disable --now "$service" >/dev/null 2>&1 || true
    fi
  done
fi
command -v go >/dev/null || { echo "strata: go is required to build the control plane" >&2; exit 1; }
