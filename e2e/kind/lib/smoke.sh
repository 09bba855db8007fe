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

# run_cluster_specific_smoke: with the local registry up (kind.sh registry up), a pod runs an image pulled from it.
# Without the registry the check is left out, said in one line: the registry is optional.
run_cluster_specific_smoke() {
  if registry_answers "127.0.0.1:$REGISTRY_PORT" 2>/dev/null; then
    check "pod pulled $(registry_name)/$SMOKE_REGISTRY_IMAGE from the local registry (its imageID is the registry's digest)" \
      check_registry_pull
  else
    echo "(no local registry on $(registry_name): its pull check left out; kind.sh registry up --name $SMOKE_CLUSTER)"
  fi
}

# The smoke image plus a label unique to the run: an image no node holds yet. (An image both loaded and pulled is
# one image to containerd, and the pod's imageID names whichever reference it got first.)
SMOKE_REGISTRY_IMAGE="local/e2e-smoke-registry:1"

# check_registry_pull: build and push that image, run it with imagePullPolicy Always, compare the pod's imageID
# with the digest the registry serves.
check_registry_pull() {
  local ref digest image_id out ok=0
  out="$(docker build -q --label "dev.finetune.e2e.smoke-run=$(date +%s%N)" -t "$SMOKE_REGISTRY_IMAGE" - \
    <<<"FROM $SMOKE_IMAGE" 2>&1)" || { echo "$out"; return 1; }
  ref="$(cmd_push "$SMOKE_REGISTRY_IMAGE")" || return 1
  digest="$(registry_digest "$SMOKE_REGISTRY_IMAGE")" || { echo "no digest for $SMOKE_REGISTRY_IMAGE in the registry"; return 1; }
  SMOKE_IMAGE="$ref" pod_manifest registry-pull 'echo pulled-ok' \
    | sed 's/imagePullPolicy: Never/imagePullPolicy: Always/' | k apply -f - >/dev/null
  if wait_pod_succeeded registry-pull 120; then
    image_id="$(k get pod registry-pull -o jsonpath='{.status.containerStatuses[0].imageID}')"
    equals "$image_id" "${ref%:*}@$digest" && echo "imageID $image_id" || ok=1
  else
    ok=1
  fi
  docker rmi "$SMOKE_REGISTRY_IMAGE" "$ref" >/dev/null 2>&1 || true
  return "$ok"
}
