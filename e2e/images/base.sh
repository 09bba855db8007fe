#!/usr/bin/env bash
# Builds the registry-free base images every e2e image starts FROM:
#   local/debian:bookworm  - a debootstrap'ed minbase Debian, imported with 'docker import'
#   local/jre:25           - local/debian:bookworm + a jlink'ed Java 25 runtime in /opt/java
# Both are cached: the Debian rootfs tarball and the jlink output under
# ${XDG_CACHE_HOME:-~/.cache}/finetune-e2e/images, and the images in Docker itself,
# so a second run is a no-op.
#
# Usage: bash e2e/images/base.sh           (needs root: debootstrap, dockerd)
# Then in a Dockerfile:  FROM local/jre:25
# and load into a Kind cluster: bash e2e/kind/kind.sh load <tag> --name <cluster>
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/../cluster/lib/common.sh"
source "$CLUSTER_DIR/lib/docker.sh"

DEBIAN_SUITE="bookworm"
DEBIAN_IMAGE="local/debian:bookworm"
JRE_IMAGE="local/jre:25"
JDK_HOME="${JDK25_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
IMAGE_CACHE="$CACHE_ROOT/images"

# debian_rootfs_tarball: path of a cached tarball of a minbase Debian root filesystem,
# creating it with debootstrap (from Debian's default mirror) on first use.
debian_rootfs_tarball() {
  local tarball="$IMAGE_CACHE/debian-$DEBIAN_SUITE-minbase.tar"
  if [[ ! -s "$tarball" ]]; then
    apt_install debootstrap
    local rootfs
    rootfs="$(mktemp -d /tmp/fte2e-rootfs.XXXXXX)"
    log "debootstrap --variant=minbase $DEBIAN_SUITE (a minute or two)"
    debootstrap --variant=minbase "$DEBIAN_SUITE" "$rootfs" >"$IMAGE_CACHE/debootstrap.log" 2>&1 \
      || die "debootstrap failed; see $IMAGE_CACHE/debootstrap.log"
    # Trim what no container needs: apt lists (a 'RUN apt-get update' refreshes them) and docs.
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
           "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
    tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$rootfs"
  fi
  echo "$tarball"
}

build_debian_image() {
  docker_image_exists "$DEBIAN_IMAGE" && { log "$DEBIAN_IMAGE present"; return 0; }
  local tarball
  tarball="$(debian_rootfs_tarball)"
  log "docker import -> $DEBIAN_IMAGE"
  docker import --change 'CMD ["/bin/bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$tarball" "$DEBIAN_IMAGE" >/dev/null
}

# jlink_modules: every module of the host JDK except the tools that JEP 493 forbids or
# that need them (Temurin 25 ships no jmods/, so jlink links from the runtime image and
# ALL-MODULE-PATH is not available). Keeping all runtime modules means any JVM program
# (the operator, Quarkus, test tools) runs; the size is won by the strip flags below.
jlink_modules() {
  "$JDK_HOME/bin/java" --list-modules | sed 's/@.*//' \
    | grep -vxE 'jdk\.jlink|jdk\.jpackage|jdk\.jdeps|jdk\.jshell|jdk\.jconsole|jdk\.compiler|jdk\.javadoc|jdk\.jdi|jdk\.jdwp\.agent|jdk\.hotspot\.agent|jdk\.editpad|jdk\.internal\.ed|jdk\.internal\.le|jdk\.internal\.opt|jdk\.jartool|jdk\.jstatd|jdk\.jcmd' \
    | paste -sd, -
}

# jlinked_runtime: path of a cached jlink'ed Java runtime made from the host's JDK 25.
jlinked_runtime() {
  local out="$IMAGE_CACHE/jre-25"
  if [[ ! -x "$out/bin/java" ]]; then
    [[ -x "$JDK_HOME/bin/jlink" ]] || die "no JDK 25 at $JDK_HOME (set JDK25_HOME)"
    log "jlink Java 25 runtime from $JDK_HOME"
    rm -rf "$out"
    "$JDK_HOME/bin/jlink" --add-modules "$(jlink_modules)" --strip-debug --no-header-files \
      --no-man-pages --compress=zip-6 --output "$out" >&2
  fi
  echo "$out"
}

build_jre_image() {
  docker_image_exists "$JRE_IMAGE" && { log "$JRE_IMAGE present"; return 0; }
  local runtime ctx
  runtime="$(jlinked_runtime)"
  ctx="$(mktemp -d /tmp/fte2e-jre.XXXXXX)"
  cp -a "$runtime" "$ctx/java"
  cp "$IMAGES_DIR/jre/Dockerfile" "$ctx/Dockerfile"
  log "docker build -> $JRE_IMAGE"
  docker_build "$JRE_IMAGE" "$ctx" || die "building $JRE_IMAGE failed"
  rm -rf "$ctx"
}

main() {
  require_root
  mkdir -p "$IMAGE_CACHE"
  ensure_docker
  build_debian_image
  build_jre_image
  log "base images ready: $DEBIAN_IMAGE $JRE_IMAGE"
}

main "$@"
