# shellcheck shell=bash
# Getting images into the cluster's containerd without any registry. Sourced after
# components.sh.

# Tag of the locally made pause image. containerd (sandbox_image) and kubelet normalize
# it the same way, and it is never pulled: it is imported before kubelet starts.
PAUSE_IMAGE="local/pause:3.10"

# pause_image_tarball: a docker-archive tarball ('docker save' format) holding only the
# static pause binary, written by hand so that 'up' needs no Docker at all.
pause_image_tarball() {
  local bin="$1" tarball="$CACHE_ROOT/images/pause-$(sha256sum "$1" | cut -c1-12).tar"
  if [[ ! -s "$tarball" ]]; then
    local dir layer_sha config_sha
    dir="$(mktemp -d /tmp/fte2e-pause.XXXXXX)"
    mkdir -p "$dir/rootfs"
    install -m 0755 "$bin" "$dir/rootfs/pause"
    tar --numeric-owner --owner=0 --group=0 -C "$dir/rootfs" -cf "$dir/layer.tar" pause
    layer_sha="$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)"
    cat >"$dir/config.json" <<EOF
{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/pause"],"User":"65535:65535"},"rootfs":{"type":"layers","diff_ids":["sha256:$layer_sha"]},"history":[{"created_by":"finetune-e2e pause"}]}
EOF
    config_sha="$(sha256sum "$dir/config.json" | cut -d' ' -f1)"
    mv "$dir/config.json" "$dir/$config_sha.json"
    mkdir -p "$dir/$layer_sha" && mv "$dir/layer.tar" "$dir/$layer_sha/layer.tar"
    printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]\n' \
      "$config_sha" "$PAUSE_IMAGE" "$layer_sha" >"$dir/manifest.json"
    mkdir -p "$(dirname "$tarball")"
    tar -C "$dir" -cf "$tarball.tmp" manifest.json "$config_sha.json" "$layer_sha"
    mv "$tarball.tmp" "$tarball"
    rm -rf "$dir"
  fi
  echo "$tarball"
}

import_pause_image() {
  ctr_k8s images import "$(pause_image_tarball "$PAUSE_BIN/pause")" >/dev/null
}

# load_docker_image IMAGE: copies an image from the local Docker engine into the
# cluster's containerd. Pods then use it by the same name; keep the tag fixed (not
# :latest) or set imagePullPolicy: IfNotPresent/Never, since nothing can be pulled.
load_docker_image() {
  local image="$1"
  docker image inspect "$image" >/dev/null 2>&1 || die "docker has no image $image (build it first)"
  log "loading $image into the cluster's containerd"
  docker save "$image" | ctr_k8s images import - >/dev/null
}

# load_image_tarball FILE: the same for a 'docker save' or OCI archive made without Docker.
load_image_tarball() {
  ctr_k8s images import "$1" >/dev/null
}
