# shellcheck shell=bash
# kind.sh's commands. Sourced after common.sh, tools.sh, images.sh, daemon.sh, nodeimage.sh.

kubeconfig_path() { echo "$KIND_KUBECONFIG_DIR/$1.kubeconfig"; }

# kindc ARGS...: the pinned kind CLI against the kind daemon.
kindc() { DOCKER_HOST="$KIND_DOCKER_HOST" "$(kind_cli)" "$@"; }

cluster_exists() {
  local clusters
  kind_daemon_running || return 1
  # (no 'kind get clusters | grep -q': with pipefail an early grep exit fails the pipeline)
  clusters="$(kindc get clusters 2>/dev/null)" || return 1
  grep -qx "$1" <<<"$clusters"
}

# build_binaries: the host cluster's binary builds (Kubernetes with kubeadm, etcd, CoreDNS,
# the NetworkPolicy enforcer, pause) under its lock, so that a cluster.sh build and this
# one never compile into the same cache at once; beside them, in the background, the two
# debootstraps (network-bound) and the kind/crictl/local-path-provisioner builds.
build_binaries() {
  local pids=() p
  (node_base_tarball >/dev/null && userland_tarball >/dev/null) &
  pids+=($!)
  (kind_cli >/dev/null && crictl_bin >/dev/null && local_path_bin >/dev/null) &
  pids+=($!)
  (
    mkdir -p /run/lock
    exec 9>/run/lock/finetune-e2e.lock
    flock -w 3600 9 || die "another build holds /run/lock/finetune-e2e.lock for over an hour"
    build_all
  ) || { kill "${pids[@]}" 2>/dev/null; die "building the Kubernetes binaries failed"; }
  for p in "${pids[@]}"; do
    wait "$p" || die "a kind build step failed (see above)"
  done
}

# cmd_build: every cached input and the node image; prints the node image's tag.
cmd_build() {
  mkdir -p /run/lock
  exec 7>"$KIND_BUILD_LOCK"
  flock -w 3600 7 || die "another kind.sh build holds $KIND_BUILD_LOCK for over an hour"
  local t0=$SECONDS
  build_binaries
  ensure_kind_daemon
  local tag
  tag="$(ensure_node_image)"
  check_node_image_contract "$tag"
  log "timing: build (binaries, daemon, node image) $((SECONDS - t0))s"
  exec 7>&-
  echo "$tag"
}

# check_node_image_contract TAG: what kind $KIND_VERSION reads from a node image is there.
check_node_image_contract() {
  local out
  out="$(kd run --rm --entrypoint /bin/bash "$1" -c '
    set -e
    [[ $(wc -l </kind/version) == 1 ]] || { echo "/kind/version is not one line"; exit 1; }
    cat /kind/version
    for b in /usr/bin/kubeadm /usr/bin/kubelet /usr/bin/kubectl /usr/bin/crictl /usr/bin/ctr /usr/bin/containerd /usr/sbin/runc; do
      [[ -x $b ]] || { echo "missing $b"; exit 1; }
    done
    for m in default-cni.yaml default-storage.yaml; do
      [[ -s /kind/manifests/$m ]] || { echo "missing /kind/manifests/$m"; exit 1; }
    done
    [[ -d /var/lib/containerd/io.containerd.content.v1.content ]] || { echo "no containerd content"; exit 1; }
    /usr/bin/kubeadm version -o short' 2>&1)" \
    || die "node image $1 breaks kind's node image contract: $out"
  local lines
  mapfile -t lines <<<"$out"
  [[ "${lines[0]}" == "$K8S_VERSION" && "${lines[1]}" == "$K8S_VERSION" ]] \
    || die "node image $1: /kind/version '${lines[0]}' and kubeadm '${lines[1]:-}' must both be $K8S_VERSION"
}

# kind_config: the cluster's configuration. One control-plane node; IPv4 (the kind network
# is IPv4 only); kubeadm takes its images from our repository name, and etcd's tag is that of
# our etcd build, which kubeadm's default differs from; containerd reads per-registry hosts
# from certs.d (containerd 1.5+; 'kind.sh registry up' writes the local registry's there).
kind_config() {
  cat <<EOF
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  ipFamily: ipv4
  apiServerAddress: 127.0.0.1
kubeadmConfigPatches:
- |
  kind: ClusterConfiguration
  imageRepository: "$K8S_IMAGE_REPO"
  etcd:
    local:
      imageTag: "$ETCD_TAG"
containerdConfigPatches:
- |
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$REGISTRY_CERTS_DIR"
EOF
}

deployment_available() {
  [[ "$(kubectl_kind "$1" -n "$2" get deployment "$3" \
        -o jsonpath='{.status.conditions[?(@.type=="Available")].status}' 2>/dev/null)" == True ]]
}

daemonset_ready() {
  local want ready
  want="$(kubectl_kind "$1" -n "$2" get daemonset "$3" -o jsonpath='{.status.desiredNumberScheduled}' 2>/dev/null)"
  ready="$(kubectl_kind "$1" -n "$2" get daemonset "$3" -o jsonpath='{.status.numberReady}' 2>/dev/null)"
  [[ -n "$want" && "$want" != 0 && "$want" == "$ready" ]]
}

default_storage_class() {
  [[ "$(kubectl_kind "$1" get storageclass standard \
        -o jsonpath='{.metadata.annotations.storageclass\.kubernetes\.io/is-default-class}' 2>/dev/null)" == true ]]
}

nodes_ready() {
  local statuses
  statuses="$(kubectl_kind "$1" get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null)"
  [[ -n "$statuses" ]] && ! grep -qv '^True$' <<<"$statuses"
}

# kubectl_kind NAME ARGS...: our kubectl build (same version as the cluster) on cluster NAME.
kubectl_kind() {
  local name="$1"; shift
  "$(k8s_bin_dir)/kubectl" --kubeconfig="$(kubeconfig_path "$name")" "$@"
}

# wait_cluster_ready NAME: node Ready, CoreDNS, the pod network/NetworkPolicy pods and the
# storage provisioner running, the default StorageClass in place.
wait_cluster_ready() {
  local name="$1"
  wait_for 180 "nodes of $name Ready" nodes_ready "$name" || return 1
  wait_for 180 "CoreDNS available" deployment_available "$name" kube-system coredns || return 1
  wait_for 120 "kind-network (CNI + NetworkPolicy) ready" daemonset_ready "$name" kube-system kind-network || return 1
  wait_for 120 "local-path-provisioner available" deployment_available "$name" local-path-storage local-path-provisioner || return 1
  wait_for 30 "default StorageClass standard" default_storage_class "$name"
}

# show_cluster_state NAME: what to read when 'up' times out.
show_cluster_state() {
  kubectl_kind "$1" get nodes,pods -A -o wide >&2 || true
  kubectl_kind "$1" get events -A --sort-by=.lastTimestamp 2>/dev/null | tail -n 20 >&2 || true
}

cmd_up() {
  local name="$1" t0=$SECONDS tag
  apt_install docker.io jq debootstrap iptables
  tag="$(cmd_build)"
  local kubeconfig
  kubeconfig="$(kubeconfig_path "$name")"
  mkdir -p "$KIND_KUBECONFIG_DIR"
  if cluster_exists "$name"; then
    log "cluster $name exists"
    [[ -s "$kubeconfig" ]] || kindc export kubeconfig --name "$name" --kubeconfig "$kubeconfig" >&2
  else
    log "kind create cluster --name $name --image $tag"
    local t1=$SECONDS
    kind_config | kindc create cluster --name "$name" --image "$tag" --config - \
        --kubeconfig "$kubeconfig" --wait 0s >&2 \
      || die "kind create cluster failed (daemon log: $KIND_DOCKER_LOG; node logs: kind.sh kind export logs --name $name)"
    log "timing: kind create cluster $((SECONDS - t1))s"
  fi
  local t2=$SECONDS
  wait_cluster_ready "$name" || { show_cluster_state "$name"; die "cluster $name did not become ready"; }
  log "timing: cluster ready after create $((SECONDS - t2))s"
  log "cluster $name up in $((SECONDS - t0))s (kubectl of the same version: $(k8s_bin_dir)/kubectl)"
  echo "KUBECONFIG=$kubeconfig"
}

cmd_kubeconfig() {
  local name="$1" kubeconfig
  kubeconfig="$(kubeconfig_path "$1")"
  if [[ ! -s "$kubeconfig" ]]; then
    cluster_exists "$name" || die "no kind cluster '$name' (kind.sh up --name $name)"
    mkdir -p "$KIND_KUBECONFIG_DIR"
    kindc export kubeconfig --name "$name" --kubeconfig "$kubeconfig" >&2
  fi
  echo "$kubeconfig"
}

# cmd_load NAME IMAGE...: 'docker save' from the machine's default Docker daemon, imported
# straight into every node's containerd the way 'kind load' does it (ctr import into the
# k8s.io namespace with the configured snapshotter), without a copy in the kind daemon.
cmd_load() {
  local name="$1" image node; shift
  (($# >= 1)) || die "usage: kind.sh load IMAGE... [--name NAME]"
  cluster_exists "$name" || die "no kind cluster '$name' (kind.sh up --name $name)"
  docker info >/dev/null 2>&1 \
    || die "the machine's Docker daemon (where images are built) does not answer: is dockerd running?"
  local nodes
  mapfile -t nodes < <(kindc get nodes --name "$name")
  for image in "$@"; do
    docker image inspect "$image" >/dev/null 2>&1 \
      || die "the machine's Docker daemon has no image '$image' (build it first)"
    local t0=$SECONDS
    for node in "${nodes[@]}"; do
      docker save "$image" | kd exec -i "$node" ctr --namespace=k8s.io images import \
          --all-platforms --digests --snapshotter=overlayfs - >/dev/null \
        || die "loading $image into $node failed"
    done
    log "loaded $image into ${nodes[*]} in $((SECONDS - t0))s"
  done
}

# kind_gateway: this machine's address on the kind network (the bridge $KIND_BRIDGE).
kind_gateway() {
  local gateway
  gateway="$(ip -4 -o addr show dev "$KIND_BRIDGE" 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -1)"
  [[ -n "$gateway" ]] || die "the bridge $KIND_BRIDGE has no IPv4 address (is the kind Docker daemon running? kind.sh up)"
  echo "$gateway"
}

# cmd_host_address NAME: lets the cluster's pods reach servers on this machine at the kind network's gateway (the
# address of $KIND_BRIDGE here) and prints that address. The pod network does not masquerade (ipMasq false: pods
# keep their addresses inside the cluster) and this machine has no route back to the pod CIDR, so each node
# masquerades its pods' traffic to the gateway, and only that; idempotent.
cmd_host_address() {
  local name="$1" gateway node cidr
  cluster_exists "$name" || die "no kind cluster '$name' (kind.sh up --name $name)"
  gateway="$(kind_gateway)"
  local nodes
  mapfile -t nodes < <(kindc get nodes --name "$name")
  for node in "${nodes[@]}"; do
    cidr="$(kubectl_kind "$name" get node "$node" -o jsonpath='{.spec.podCIDR}')"
    [[ -n "$cidr" ]] || die "node $node has no spec.podCIDR"
    kd exec "$node" iptables -t nat -C POSTROUTING -s "$cidr" -d "$gateway/32" -j MASQUERADE 2>/dev/null \
      || kd exec "$node" iptables -t nat -A POSTROUTING -s "$cidr" -d "$gateway/32" -j MASQUERADE \
      || die "cannot add the masquerade rule for $gateway in $node"
  done
  echo "$gateway"
}

cmd_down() {
  local name="$1"
  if cluster_exists "$name"; then
    kindc delete cluster --name "$name" >&2
  else
    log "no kind cluster '$name'"
  fi
  rm -f "$(kubeconfig_path "$name")"
}

cmd_status() {
  if ! kind_daemon_running; then
    echo "kind Docker daemon: stopped"
    return 1
  fi
  echo "kind Docker daemon: running (pid $(cat "$KIND_DOCKER_PIDFILE"), $KIND_DOCKER_HOST)"
  local c
  for c in $(kindc get clusters 2>/dev/null); do
    echo "cluster $c: kubeconfig $(kubeconfig_path "$c")"
    kd ps --filter "label=io.x-k8s.kind.cluster=$c" --format '  {{.Names}} {{.Status}} {{.Ports}}'
  done
}
