# shellcheck shell=bash
# 'kind.sh smoke': the host-process cluster's smoke checks (e2e/cluster/lib/smoke.sh and
# smoke-netpol.sh) run against a kind cluster. Those files call a few functions of
# cluster.sh; this file defines them for kind, then sources them. Sourced by kind.sh.

source "$CLUSTER_DIR/lib/docker.sh"

cmd_smoke() {
  SMOKE_CLUSTER="$1"
  cluster_exists "$SMOKE_CLUSTER" || die "no kind cluster '$SMOKE_CLUSTER' (kind.sh up --name $SMOKE_CLUSTER)"
  KUBECONFIG_ADMIN="$(cmd_kubeconfig "$SMOKE_CLUSTER")"
  KUBECTL="$(k8s_bin_dir)/kubectl"
  NODE_NAME="$SMOKE_CLUSTER-control-plane"
  # What the messages name: the kube-dns Service stands where the host cluster's CoreDNS
  # address does; the NetworkPolicy enforcer's state is in the kind-network pods' logs.
  DNS_IP="$(kubectl_admin -n kube-system get service kube-dns -o jsonpath='{.spec.clusterIP}')"
  LOG_DIR="the kind-network pods' logs"
  NETPOL_LOG="kubectl -n kube-system logs ds/kind-network"
  source "$CLUSTER_DIR/lib/smoke.sh"
  source "$CLUSTER_DIR/lib/smoke-netpol.sh"
  run_smoke
}

kubectl_admin() { "$KUBECTL" --kubeconfig="$KUBECONFIG_ADMIN" "$@"; }

cluster_running() { cluster_exists "$SMOKE_CLUSTER"; }

node_ready() { nodes_ready "$SMOKE_CLUSTER"; }

# netpol_ready: the enforcer pods are ready (their readiness probe is kube-router's health
# endpoint) and its chains are hooked into the node's FORWARD chain.
netpol_ready() {
  local node rules
  daemonset_ready "$SMOKE_CLUSTER" kube-system kind-network || return 1
  for node in $(kindc get nodes --name "$SMOKE_CLUSTER"); do
    rules="$(kd exec "$node" iptables -S FORWARD)" || return 1
    grep -q -- '-j KUBE-ROUTER-FORWARD' <<<"$rules" || return 1
  done
}

load_docker_image() { cmd_load "$SMOKE_CLUSTER" "$1"; }
