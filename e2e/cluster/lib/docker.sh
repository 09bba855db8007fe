# shellcheck shell=bash
# Docker is only the image *builder* here: images are built with 'docker build' and
# copied into the cluster's containerd with 'docker save | ctr import'. No registry
# is involved anywhere. Sourced after common.sh.

DOCKERD_LOG="/var/log/finetune-e2e/dockerd.log"

# ensure_docker: makes 'docker info' work, installing Debian's docker.io and starting
# dockerd in the background if needed (no systemd on these machines). dockerd is left
# running afterwards: its image store is a cache, and 'cluster.sh down' does not touch it.
ensure_docker() {
  docker info >/dev/null 2>&1 && return 0
  command -v dockerd >/dev/null || apt_install docker.io
  command -v docker >/dev/null || apt_install docker.io
  log "starting dockerd (log: $DOCKERD_LOG)"
  mkdir -p "$(dirname "$DOCKERD_LOG")"
  setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null 9>&- &
  wait_for 60 "dockerd to answer" docker info || die "dockerd did not start; see $DOCKERD_LOG"
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
