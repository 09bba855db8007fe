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

docker_image_exists() {
  docker image inspect "$1" >/dev/null 2>&1
}
