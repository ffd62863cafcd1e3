#!/usr/bin/env bash
# A real root filesystem for the layer tests (Debian bookworm, minbase, made by debootstrap from
# Debian's packages), kept as a tar so every test run starts from the same bytes. Built once per
# machine; does nothing when present. `large` makes the benchmarks' bigger root instead: minbase
# plus a toolchain, Python and Git (about 600 MB, the size of root the layer-store issue measures).
#
#   hack/build-test-rootfs.sh [minbase|large]
#   ${STRATA_TEST_CACHE:-$HOME/.cache/strata}/rootfs-bookworm-{minbase,large}.tar
set -euo pipefail

flavour=${1:-minbase}
case "$flavour" in
  minbase) include=() ;;
  large) include=(--include=build-essential,python3,git,perl,curl,vim-nox,less,file) ;;
  *) echo "usage: $0 [minbase|large]" >&2; exit 2 ;;
esac
cache=${STRATA_TEST_CACHE:-$HOME/.cache/strata}
out="$cache/rootfs-bookworm-$flavour.tar"
if [ -s "$out" ]; then
  echo "test root filesystem present: $out"
  exit 0
fi
mkdir -p "$cache"
work=$(mktemp -d "$cache/debootstrap.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "building a test root filesystem with debootstrap (a few minutes, once)"
debootstrap --variant=minbase "${include[@]}" bookworm "$work/rootfs" >"$work/log" 2>&1 || { tail -20 "$work/log" >&2; exit 1; }
# Caches and logs vary run to run and have nothing to test.
rm -rf "$work/rootfs"/var/cache/apt/*.bin "$work/rootfs"/var/log/* "$work/rootfs"/var/lib/apt/lists/*
tar --numeric-owner --xattrs --xattrs-include='*' -C "$work/rootfs" -cf "$out.tmp" .
mv "$out.tmp" "$out"
echo "test root filesystem: $out ($(du -h "$out" | cut -f1))"
