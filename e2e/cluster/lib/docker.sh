# shellcheck shell=bash
# Docker is only the image *builder* here: images are built with 'docker build' and
# copied into the cluster's containerd with 'docker save | ctr import'. No registry
# is involved anywhere. Sourced after common.sh.

DOCKERD_LOG="/var/log/finetune-e2e/dockerd.log"

# ensure_docker: makes 'docker info' work, installing Debian's docker.io and starting
# dockerd in the background if needed (no systemd on these machines). dockerd is left
# running afterwards: its image store is a cache, and 'cluster.sh down' does not touch it.
ensure_docker() {
  if docker info >/dev/null 2>&1; then
    restore_default_bridge
    return 0
  fi
  command -v dockerd >/dev/null || apt_install docker.io
  command -v docker >/dev/null || apt_install docker.io
  log "starting dockerd (log: $DOCKERD_LOG)"
  mkdir -p "$(dirname "$DOCKERD_LOG")"
  setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null 9>&- &
  wait_for 60 "dockerd to answer" docker info || die "dockerd did not start; see $DOCKERD_LOG"
}

# restore_default_bridge: recreates the default daemon's bridge interface when it is gone. Another dockerd
# started with --bridge none deletes the interface docker0 (docs/decisions.md, "Kind is the e2e cluster of
# CI"); the daemon keeps running without it, and every container or 'docker build' RUN step then fails with
# "could not find bridge docker0". The daemon finds the interface by name, so one with its address serves.
restore_default_bridge() {
  local name gateway subnet
  name="$(docker network inspect bridge -f '{{index .Options "com.docker.network.bridge.name"}}' 2>/dev/null)" || return 0
  [[ -n "$name" ]] || return 0
  ip link show "$name" >/dev/null 2>&1 && return 0
  gateway="$(docker network inspect bridge -f '{{(index .IPAM.Config 0).Gateway}}')"
  subnet="$(docker network inspect bridge -f '{{(index .IPAM.Config 0).Subnet}}')"
  log "the default Docker bridge $name is missing (deleted by another dockerd): recreating it ($gateway/${subnet#*/})"
  ip link add "$name" type bridge && ip addr add "$gateway/${subnet#*/}" dev "$name" && ip link set "$name" up \
    || die "cannot recreate the bridge $name; restart dockerd"
}

# docker_build TAG CONTEXT [ARGS...]: 'docker build' that stays quiet unless it fails
# (Debian's Docker prints a legacy-builder deprecation notice on every build).
docker_build() {
  local tag="$1" ctx="$2" out; shift 2
  if ! out="$(docker build -t "$tag" "$@" "$ctx" 2>&1)"; then
    printf '%s\n' "$out" | tail -n 30 >&2
    log "docker build of $tag failed"
    return 1
  fi
}

docker_image_exists() {
  docker image inspect "$1" >/dev/null 2>&1
}
