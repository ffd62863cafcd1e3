#!/usr/bin/env bash
# Makes the container images the test node runs, from local files only (nothing is pulled):
#
#   strata-pause:1     the pod sandbox (hack/node/pause.c, built static): containerd's sandbox_image
#   strata-busybox:1   Debian's busybox-static with its applets linked: the pods that use Strata
#
# Each is a one-layer OCI image made with umoci, copied by skopeo into a docker-archive that
# `ctr images import` reads: ${STRATA_TEST_CACHE:-~/.cache/strata}/node-images/NAME.tar.
# Does nothing for an image already made from the same inputs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${STRATA_TEST_CACHE:-$HOME/.cache/strata}/node-images
mkdir -p "$out"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# image NAME:TAG ENTRYPOINT POPULATE INPUT...: a one-layer image whose root POPULATE fills (it is
# given the root's path); remade only when an INPUT file or the entrypoint changed.
image() {
  local ref=$1 entrypoint=$2 populate=$3; shift 3
  local name=${ref%%:*} tag=${ref#*:} stamp
  stamp=$( (echo "$ref $entrypoint"; sha256sum "$@" "$0") | sha256sum | cut -c1-16)
  if [ -f "$out/$name.tar" ] && [ "$(cat "$out/$name.stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "$ref present in $out"
    return
  fi
  echo "making $ref in $out"
  local layout=$work/$name bundle=$work/$name-bundle
  umoci init --layout "$layout"
  umoci new --image "$layout:$tag"
  umoci unpack --image "$layout:$tag" "$bundle" >/dev/null
  "$populate" "$bundle/rootfs"
  umoci repack --image "$layout:$tag" "$bundle"
  umoci config --image "$layout:$tag" --config.entrypoint "$entrypoint" \
    --history.created_by "hack/build-node-images.sh"
  rm -f "$out/$name.tar"
  skopeo --insecure-policy copy -q "oci:$layout:$tag" "docker-archive:$out/$name.tar:$ref"
  echo "$stamp" >"$out/$name.stamp"
}

pause_root() {
  gcc -static -Os -s -o "$1/pause" "$here/node/pause.c"
}
busybox_root() {
  install -D -m 0755 /bin/busybox "$1/bin/busybox"
  chroot "$1" /bin/busybox --install -s /bin
  mkdir -p "$1/tmp" "$1/etc"
}

image strata-pause:1 /pause pause_root "$here/node/pause.c"
image strata-busybox:1 /bin/sh busybox_root /bin/busybox
