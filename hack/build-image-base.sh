#!/usr/bin/env bash
# The base of Strata's container image, made here because no registry with base images is
# reachable: Debian bookworm minbase (the debootstrap root filesystem of the tests, trimmed) plus a
# Java runtime cut down by jlink (with its class-data-sharing archive), written as the
# docker-archive tar Jib takes as a tar:// base. Built once per machine and JDK; does nothing
# when present. Prints the tar's path.
#
#   ${STRATA_TEST_CACHE:-$HOME/.cache/strata}/image-base-<jdk and modules>.tar, and image-base.tar
#   pointing at it
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/env.sh

# What the agent and controller load: JUL (libraries log through it), JMX (JVM metrics), JNDI
# (DNS), the HTTP client and server (downloads; /healthz, /readyz, /metrics), XML and java.beans
# (YAML and JSON binding), SQL types (Jackson),
# sun.misc.Unsafe (Netty, jnr), Kerberos-free TLS.
modules=java.base,java.logging,java.management,jdk.management,java.naming,java.net.http,jdk.httpserver,java.xml,java.desktop,java.sql,jdk.crypto.ec,jdk.unsupported,jdk.zipfs

cache=${STRATA_TEST_CACHE:-$HOME/.cache/strata}
jdk=$("$JAVA_HOME/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/ *java.runtime.version = //p')
key=$(echo "$jdk $modules v1" | sha256sum | cut -c1-12)
out="$cache/image-base-$key.tar"
link="$cache/image-base.tar"   # the default base of the image profile (pom.xml)
if [ -s "$out" ]; then
  ln -sfn "$(basename "$out")" "$link"
  echo "$out"
  exit 0
fi
hack/build-test-rootfs.sh >&2
mkdir -p "$cache"
work=$(mktemp -d "$cache/image-base.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$JAVA_HOME/bin/jlink" --add-modules "$modules" --output "$work/jre" \
  --strip-debug --no-man-pages --no-header-files --compress=zip-6 --generate-cds-archive >&2

umoci init --layout "$work/layout" >&2
umoci new --image "$work/layout:base" >&2
umoci unpack --image "$work/layout:base" "$work/bundle" >&2
rootfs="$work/bundle/rootfs"
tar --numeric-owner --xattrs --xattrs-include='*' -xpf "$cache/rootfs-bookworm-minbase.tar" -C "$rootfs"
# Nothing in the image reads documentation, manuals or translations.
rm -rf "$rootfs"/usr/share/{doc,man,info,locale}/* "$rootfs"/var/cache/debconf/*-old
mkdir -p "$rootfs/opt"
cp -a "$work/jre" "$rootfs/opt/java"
umoci repack --image "$work/layout:base" "$work/bundle" >&2
umoci config --image "$work/layout:base" --tag base \
  --config.env PATH=/opt/java/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env JAVA_HOME=/opt/java \
  --architecture amd64 --os linux >&2
skopeo --insecure-policy copy --quiet "oci:$work/layout:base" "docker-archive:$out.tmp:strata-base:$key" >&2
mv "$out.tmp" "$out"
ln -sfn "$(basename "$out")" "$link"
echo "$out"
