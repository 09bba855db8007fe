#!/usr/bin/env bash
# A real single-node Kubernetes for the e2e tests, assembled on this machine from
# Kubernetes/etcd/CoreDNS built from source (cached) and containerd, runc and the CNI
# plugins from Debian. No container registry is used at any point.
#
#   cluster.sh up                 build (cached) and start the cluster; prints KUBECONFIG
#   cluster.sh smoke              check that it works (PASS/FAIL per check)
#   cluster.sh status             what is running
#   cluster.sh down               stop everything, remove all state; keep the build cache
#   cluster.sh load-image IMAGE   copy a local Docker image into the cluster's containerd
#   cluster.sh load-tarball FILE  import a 'docker save'/OCI archive into it
#   cluster.sh kubeconfig         print the admin kubeconfig path
#   cluster.sh kubectl ARGS...    the matching kubectl (v1.34) with the admin kubeconfig
#   cluster.sh build              only build/refresh the binary cache
#
# Needs root (see docs/testing.md). Details of each part are in e2e/cluster/lib/*.sh.
set -euo pipefail

CLUSTER_SH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$CLUSTER_SH_DIR/lib/common.sh"
source "$CLUSTER_SH_DIR/lib/build.sh"
source "$CLUSTER_SH_DIR/lib/pki.sh"
source "$CLUSTER_SH_DIR/lib/components.sh"
source "$CLUSTER_SH_DIR/lib/images.sh"
source "$CLUSTER_SH_DIR/lib/teardown.sh"
source "$CLUSTER_SH_DIR/lib/docker.sh"

DAEMONS=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy coredns
         netpol hostdir-provisioner)

# Debian packages the cluster runs on (binaries we do not build ourselves).
HOST_PACKAGES=(containerd runc containernetworking-plugins iptables conntrack ethtool socat
               iproute2 openssl curl ca-certificates kmod ipset)

# resolve_binaries: sets K8S_BIN, COREDNS_BIN, NETPOL_BIN, PAUSE_BIN and KUBECTL from the cache.
resolve_binaries() {
  K8S_BIN="$(k8s_bin_dir)"
  COREDNS_BIN="$(coredns_bin_dir)"
  NETPOL_BIN="$(netpol_bin_dir)"
  PAUSE_BIN="$(pause_bin_dir)"
  KUBECTL="$K8S_BIN/kubectl"
}

# detect_node_ip: the address of the interface that holds the default route (what
# kubelet would pick too); the API server advertises it and pods reach it via
# the kubernetes.default Service.
detect_node_ip() {
  local dev ip
  dev="$(ip -4 route show default 2>/dev/null | awk '{for (i=1;i<NF;i++) if ($i=="dev") {print $(i+1); exit}}')"
  if [[ -n "$dev" ]]; then
    ip="$(ip -4 -o addr show dev "$dev" scope global | awk '{sub(/\/.*/, "", $4); print $4; exit}')"
  fi
  if [[ -z "${ip:-}" ]]; then
    ip="$(ip -4 -o addr show scope global | awk '$2 !~ /^(docker|fte2e|cni|veth)/ {sub(/\/.*/, "", $4); print $4; exit}')"
  fi
  [[ -n "${ip:-}" ]] || die "cannot find a global IPv4 address for the node"
  echo "$ip"
}

kubectl_admin() {
  "$KUBECTL" --kubeconfig="$KUBECONFIG_ADMIN" "$@"
}

cluster_running() {
  daemon_running kube-apiserver && daemon_running kubelet
}

# install_storage_class: the default StorageClass "standard", served by
# lib/hostdir-provisioner.sh: each PVC gets a fresh world-writable directory under
# $VOLUME_ROOT and a hostPath PV bound to it, both deleted with the PVC.
install_storage_class() {
  kubectl_admin apply -f - >/dev/null <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: $PROVISIONER_NAME
reclaimPolicy: Delete
volumeBindingMode: Immediate
EOF
}

default_service_account_exists() {
  kubectl_admin -n default get serviceaccount default
}

print_kubeconfig_hint() {
  log "kubectl of the same version: $KUBECTL (or: cluster.sh kubectl ...)"
  echo "export KUBECONFIG=$KUBECONFIG_ADMIN"
}

cmd_build() {
  build_all
}

cmd_up() {
  require_root
  if cluster_running; then
    resolve_binaries
    log "cluster already running"
    print_kubeconfig_hint
    return 0
  fi
  local t0=$SECONDS
  apt_install "${HOST_PACKAGES[@]}"
  build_all
  resolve_binaries
  # Leftovers of a crashed run would confuse every component: start from nothing.
  [[ -d "$STATE_DIR" ]] && { log "removing leftovers of a previous cluster"; teardown_cluster; }
  NODE_IP="$(detect_node_ip)"
  mkdir -p "$STATE_DIR" "$LOG_DIR" "$RUN_DIR"
  echo "$NODE_IP" >"$STATE_DIR/node-ip"
  log "node $NODE_NAME at $NODE_IP; state in $STATE_DIR, logs in $LOG_DIR"

  generate_pki
  prepare_host_network
  write_cni_config
  start_etcd
  start_apiserver
  start_controller_manager
  start_scheduler
  start_containerd
  import_pause_image
  start_kube_proxy
  start_coredns
  start_kubelet
  start_network_policy_enforcer
  install_storage_class
  start_volume_provisioner
  wait_or_die kube-controller-manager 60 "default ServiceAccount" default_service_account_exists
  log "cluster up in $((SECONDS - t0))s"
  print_kubeconfig_hint
}

cmd_down() {
  require_root
  resolve_binaries
  teardown_cluster
  log "cluster down (build cache kept in $CACHE_ROOT)"
}

cmd_status() {
  resolve_binaries
  local d any=""
  for d in "${DAEMONS[@]}"; do
    if daemon_running "$d"; then
      printf '%-24s running (pid %s)\n' "$d" "$(cat "$RUN_DIR/$d.pid")"
      any=1
    else
      printf '%-24s stopped\n' "$d"
    fi
  done
  if [[ -n "$any" ]] && daemon_running kube-apiserver; then
    echo
    kubectl_admin get nodes -o wide 2>&1 || true
    echo
    print_kubeconfig_hint
  fi
  [[ -n "$any" ]]
}

# cmd_load "USAGE" LOADER ARG...: LOADER (load_docker_image or load_image_tarball) on each ARG, into the
# running cluster's containerd.
cmd_load() {
  local usage="$1" loader="$2" arg
  shift 2
  (($# >= 1)) || die "usage: cluster.sh $usage..."
  require_root
  resolve_binaries
  daemon_running containerd || die "cluster is not running (cluster.sh up)"
  for arg in "$@"; do "$loader" "$arg"; done
}

# take_lock: one cluster per machine, and colleagues/CI jobs may call up/down at the
# same time: serialize every command that changes it.
take_lock() {
  mkdir -p /run/lock
  exec 9>/run/lock/finetune-e2e.lock
  flock -w 1800 9 || die "another cluster.sh holds /run/lock/finetune-e2e.lock"
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    up)           take_lock; cmd_up ;;
    down)         take_lock; cmd_down ;;
    status)       cmd_status ;;
    smoke)        resolve_binaries; source "$CLUSTER_SH_DIR/lib/smoke.sh"
                  source "$CLUSTER_SH_DIR/lib/smoke-netpol.sh"; run_smoke ;;
    load-image)   cmd_load "load-image IMAGE" load_docker_image "$@" ;;
    load-tarball) cmd_load "load-tarball FILE" load_image_tarball "$@" ;;
    kubeconfig)   echo "$KUBECONFIG_ADMIN" ;;
    kubectl)      resolve_binaries; kubectl_admin "$@" ;;
    build)        take_lock; cmd_build ;;
    *) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; [[ -z "$cmd" || "$cmd" == help || "$cmd" == -h ]] ;;
  esac
}

main "$@"
