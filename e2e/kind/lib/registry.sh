# shellcheck shell=bash
# 'kind.sh registry' and 'kind.sh push': the project's images reach the kind nodes through a local registry, CNCF
# Distribution's (the binary hack/build-registry.sh builds), run as processes on this machine. Sourced after
# cluster.sh.
#
# One registry, two listeners, one storage directory:
#   127.0.0.1:PORT        read-write: the machine's Docker pushes to localhost:PORT/... (Docker treats loopback
#                         registries as plain-HTTP ones without configuration);
#   GATEWAY:PORT          read-only: the nodes' containerd pulls from the kind network's gateway (this machine's
#                         address on the bridge $KIND_BRIDGE), so nothing on the kind network can write.
# Each node's containerd maps the name localhost:PORT to http://GATEWAY:PORT (certs.d/localhost:PORT/hosts.toml,
# read at each pull; kind_config sets config_path at creation), so an image has the same name on the machine and in
# the cluster. Anonymous, plain HTTP: a transport for images that are also in the machine's Docker; 'registry down'
# deletes the storage.

REGISTRY_PORT="${FINETUNE_KIND_REGISTRY_PORT:-5001}"
REGISTRY_CERTS_DIR="/etc/containerd/certs.d"
REGISTRY_RUN_DIR="$KIND_DOCKER_RUN"                 # pid files and configs (tmpfs)
REGISTRY_DATA_DIR="/var/lib/finetune-kind"          # blobs and manifests (disk)
REGISTRY_LOG_DIR="/var/log/finetune-e2e"

registry_state_dir()   { echo "$REGISTRY_RUN_DIR/registry-$REGISTRY_PORT"; }
registry_storage_dir() { echo "$REGISTRY_DATA_DIR/registry-$REGISTRY_PORT"; }
registry_name()        { echo "localhost:$REGISTRY_PORT"; }

# registry_bin: the cached registry binary (hack/build-registry.sh builds it once from the Go module proxy).
registry_bin() {
  bash "$KIND_DIR/../../hack/build-registry.sh" || die "no registry binary: bash hack/build-registry.sh (needs Go 1.25+)"
}

# registry_reference IMAGE: the name IMAGE has in the local registry, on the machine and in the cluster.
registry_reference() {
  local image="$1"
  [[ "$image" != *@* ]] || die "'$image': push images by name and tag, not by digest (the registry names its own digest)"
  [[ "$image" != localhost:[0-9]*/* ]] || die "'$image' already names a local registry; give the image's local name"
  echo "$(registry_name)/$image"
}

# registry_config ADDR READ_ONLY STORAGE: the registry's configuration (YAML).
registry_config() {
  cat <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $3
  maintenance:
    uploadpurging:
      enabled: false
    readonly:
      enabled: $2
http:
  addr: $1
EOF
}

# registry_hosts_toml GATEWAY: the nodes' containerd configuration for the name localhost:PORT.
registry_hosts_toml() {
  cat <<EOF
# kind.sh registry: $(registry_name) is the registry on the machine, reached at the kind network's gateway.
server = "http://$1:$REGISTRY_PORT"

[host."http://$1:$REGISTRY_PORT"]
  capabilities = ["pull", "resolve"]
EOF
}

# registry_digest IMAGE: the digest of IMAGE's manifest (or index) in the local registry, as a pull names it.
registry_digest() {
  local repo="$1" tag=latest headers
  if [[ "${1##*/}" == *:* ]]; then repo="${1%:*}"; tag="${1##*:}"; fi
  headers="$(curl -fsSI --max-time 10 \
    -H 'Accept: application/vnd.oci.image.index.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://127.0.0.1:$REGISTRY_PORT/v2/$repo/manifests/$tag")" || return 1
  sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p' <<<"$headers" | tr -d '\r'
}

registry_answers() { curl -fsS -o /dev/null --max-time 2 "http://$1/v2/"; }

# start_registry_listener ROLE ADDR READ_ONLY: one registry process (idempotent: a running one is kept).
start_registry_listener() {
  local role="$1" addr="$2" read_only="$3" state pid bin
  state="$(registry_state_dir)"
  if [[ -f "$state/$role.pid" ]] && kill -0 "$(cat "$state/$role.pid")" 2>/dev/null && registry_answers "$addr" 2>/dev/null; then
    return 0
  fi
  bin="$(registry_bin)"
  mkdir -p "$state" "$(registry_storage_dir)" "$REGISTRY_LOG_DIR"
  registry_config "$addr" "$read_only" "$(registry_storage_dir)" >"$state/$role.yml"
  local log_file="$REGISTRY_LOG_DIR/registry-$REGISTRY_PORT-$role.log"
  log "starting the registry's $role listener on $addr (log $log_file)"
  # 9>&- 8>&- 7>&-: kind.sh's lock descriptors stay with kind.sh (see start_kind_daemon).
  setsid nohup "$bin" serve "$state/$role.yml" >>"$log_file" 2>&1 </dev/null 9>&- 8>&- 7>&- &
  pid=$!
  echo "$pid" >"$state/$role.pid"
  wait_for 30 "the registry on $addr" registry_answers "$addr" \
    || { tail -n 5 "$log_file" >&2; die "the registry did not answer on $addr (port $REGISTRY_PORT taken? FINETUNE_KIND_REGISTRY_PORT or --port picks another); see $log_file"; }
}

# configure_node_registry NODE GATEWAY: NODE's containerd pulls localhost:PORT from the registry.
configure_node_registry() {
  local node="$1" gateway="$2" dir
  kd exec "$node" grep -q "config_path = \"$REGISTRY_CERTS_DIR\"" /etc/containerd/config.toml \
    || die "node $node's containerd has no config_path = \"$REGISTRY_CERTS_DIR\": its cluster was made by an older kind.sh; recreate it (kind.sh down, kind.sh up)"
  dir="$REGISTRY_CERTS_DIR/$(registry_name)"
  registry_hosts_toml "$gateway" | kd exec -i "$node" sh -c "mkdir -p '$dir' && cat >'$dir/hosts.toml'" \
    || die "cannot write $dir/hosts.toml in $node"
}

# cmd_registry NAME up|down: 'up' starts the registry (idempotent) and points cluster NAME's nodes at it; 'down'
# stops it and deletes its storage.
cmd_registry() {
  local name="$1" action="${2:-}"
  case "$action" in
    up)
      cluster_exists "$name" || die "no kind cluster '$name' (kind.sh up --name $name)"
      local gateway node nodes
      gateway="$(kind_gateway)"
      start_registry_listener push "127.0.0.1:$REGISTRY_PORT" false
      start_registry_listener pull "$gateway:$REGISTRY_PORT" true
      mapfile -t nodes < <(kindc get nodes --name "$name")
      for node in "${nodes[@]}"; do configure_node_registry "$node" "$gateway"; done
      log "registry $(registry_name) (pull address $gateway:$REGISTRY_PORT) serves cluster $name (${nodes[*]})"
      registry_name
      ;;
    down) stop_registry ;;
    *) die "usage: kind.sh registry up|down [--name NAME] [--port PORT]" ;;
  esac
}

stop_registry() {
  local state role pid i
  state="$(registry_state_dir)"
  for role in pull push; do
    [[ -f "$state/$role.pid" ]] || continue
    pid="$(cat "$state/$role.pid")"
    if kill "$pid" 2>/dev/null; then
      for i in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
      log "stopped the registry's $role listener (pid $pid)"
    fi
  done
  rm -rf "$state" "$(registry_storage_dir)"
}

# cmd_push IMAGE...: tags each image of the machine's Docker as localhost:PORT/IMAGE, pushes it, and prints the
# in-cluster references, one per line.
cmd_push() {
  (($# >= 1)) || die "usage: kind.sh push IMAGE... [--port PORT]"
  registry_answers "127.0.0.1:$REGISTRY_PORT" 2>/dev/null \
    || die "no registry on $(registry_name): start it with kind.sh registry up --name CLUSTER [--port $REGISTRY_PORT]"
  local image ref out t0
  for image in "$@"; do
    docker image inspect "$image" >/dev/null 2>&1 \
      || die "the machine's Docker daemon has no image '$image' (build it first)"
    ref="$(registry_reference "$image")"
    t0=$SECONDS
    docker tag "$image" "$ref" || die "docker tag $image $ref failed"
    out="$(docker push "$ref" 2>&1)" || { echo "$out" >&2; die "docker push $ref failed"; }
    log "pushed $image as $ref in $((SECONDS - t0))s"
    echo "$ref"
  done
}
