#!/usr/bin/env bash
# Faults done to a running Kind cluster's control-plane node (issue 18), from outside the node:
# `docker exec` into the node container, then systemctl, crictl and kill there.
#
#   faults.sh operator-sigkill   [--name NAME] [--namespace NS]  SIGKILL the main process of every operator
#                                   pod (container "operator" in NS, default finetune-system); the kubelet
#                                   restarts it in place
#   faults.sh apiserver-restart  [--name NAME]  stop the kube-apiserver container (crictl stop); the kubelet
#                                   starts the static pod again; waits for its new container, then /readyz
#   faults.sh etcd-restart       [--name NAME]  the same for etcd
#   faults.sh kubelet-stop SECONDS [--name NAME]  systemctl stop kubelet, wait, start it; waits for Ready
#   faults.sh containerd-restart [--name NAME]  systemctl restart containerd; waits for /readyz
#
# Each prints what it did and how long the cluster took to answer again (last line: "recovered in N s").
# The node is NAME-control-plane in the kind Docker daemon of e2e/kind/kind.sh (FAULTS_DOCKER=docker
# uses the machine's default daemon instead, as stock kind does). Needs root, like kind.sh.
set -euo pipefail

FAULTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$FAULTS_DIR/lib/common.sh"

usage() { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

# node_exec NAME ARGS...: a command inside the cluster's control-plane node.
node_exec() {
  local name="$1"; shift
  if [[ "${FAULTS_DOCKER:-}" == docker ]]; then
    docker exec "$name-control-plane" "$@"
  else
    kd exec "$name-control-plane" "$@"
  fi
}

# kubeconfig_of NAME: $KUBECONFIG when set, else the cluster's (kind.sh's, or stock kind's in a temporary file).
kubeconfig_of() {
  if [[ -n "${KUBECONFIG:-}" ]]; then
    echo "$KUBECONFIG"
  elif [[ "${FAULTS_DOCKER:-}" == docker ]]; then
    local file; file="$(mktemp)"
    kind get kubeconfig --name "$1" >"$file" || die "kind get kubeconfig --name $1 failed"
    echo "$file"
  else
    bash "$FAULTS_DIR/kind.sh" kubeconfig --name "$1"
  fi
}

# wait_until SECONDS DESCRIPTION COMMAND...: polls every second; prints the seconds it took.
wait_until() {
  local limit="$1" what="$2" start=$SECONDS; shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS - start < limit)) || die "$what: not within $limit s"
    sleep 1
  done
  echo "recovered in $((SECONDS - start)) s ($what)"
}

apiserver_ready() { kubectl --kubeconfig "$1" get --raw /readyz; }
# node_ready KUBECONFIG NAME SINCE: Ready, as posted by a kubelet heartbeat at or after SINCE (UTC, RFC 3339):
# the condition the node controller last saw can still read Ready from before the kubelet stopped.
node_ready() {
  local ready
  ready="$(kubectl --kubeconfig "$1" get node "$2-control-plane" \
    -o jsonpath='{range .status.conditions[?(@.type=="Ready")]}{.status} {.lastHeartbeatTime}{end}')"
  [[ "${ready%% *}" == True && ! "${ready#* }" < "$3" ]]
}

# container_ids NAME CRICTL-PS-ARGS...: ids of the node's running containers that match.
container_ids() { local name="$1"; shift; node_exec "$name" crictl ps --state running -q "$@"; }

restart_static_pod() {
  local name="$1" component="$2" kubeconfig ids
  kubeconfig="$(kubeconfig_of "$name")"
  ids="$(container_ids "$name" --name "^$component\$")"
  [[ -n "$ids" ]] || die "no running $component container on $name-control-plane"
  echo "stopping $component (container $ids) on $name-control-plane"
  # shellcheck disable=SC2086
  node_exec "$name" crictl stop --timeout 0 $ids >/dev/null
  # /readyz alone can answer before it notices (etcd): first the kubelet's new container, then /readyz
  wait_until 300 "$component running again" restarted "$name" "$component" "$ids"
  wait_until 300 "kube-apiserver /readyz" apiserver_ready "$kubeconfig"
}

# restarted NAME COMPONENT OLD-IDS: a running container of the component that is not one of the old ones.
restarted() {
  local id
  for id in $(container_ids "$1" --name "^$2\$"); do
    [[ " $3 " == *" $id "* ]] || return 0
  done
  return 1
}

cmd_operator_sigkill() {
  local name="$1" namespace="$2" ids id pid
  ids="$(container_ids "$name" --label "io.kubernetes.pod.namespace=$namespace" \
    --label io.kubernetes.container.name=operator)"
  [[ -n "$ids" ]] || die "no running operator container in namespace $namespace on $name-control-plane"
  for id in $ids; do
    pid="$(node_exec "$name" crictl inspect --output go-template --template '{{.info.pid}}' "$id")"
    [[ "$pid" =~ ^[0-9]+$ ]] || die "container $id: no process id ($pid)"
    echo "SIGKILL operator container $id (pid $pid in the node)"
    node_exec "$name" kill -KILL "$pid"
  done
}

cmd_kubelet_stop() {
  local name="$1" seconds="$2" kubeconfig started
  [[ "$seconds" =~ ^[0-9]+$ ]] || die "kubelet-stop SECONDS: '$seconds' is not a number of seconds"
  kubeconfig="$(kubeconfig_of "$name")"
  echo "stopping the kubelet on $name-control-plane for $seconds s"
  node_exec "$name" systemctl stop kubelet
  sleep "$seconds"
  started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  node_exec "$name" systemctl start kubelet
  wait_until 300 "node $name-control-plane Ready" node_ready "$kubeconfig" "$name" "$started"
}

cmd_containerd_restart() {
  local name="$1" kubeconfig
  kubeconfig="$(kubeconfig_of "$name")"
  echo "restarting containerd on $name-control-plane"
  node_exec "$name" systemctl restart containerd
  wait_until 300 "kube-apiserver /readyz" apiserver_ready "$kubeconfig"
}

main() {
  local cmd="${1:-}" name="$DEFAULT_CLUSTER_NAME" namespace="finetune-system" args=()
  shift || true
  while (($#)); do
    case "$1" in
      --name) (($# >= 2)) || die "--name needs a value"; name="$2"; shift 2 ;;
      --namespace) (($# >= 2)) || die "--namespace needs a value"; namespace="$2"; shift 2 ;;
      *) args+=("$1"); shift ;;
    esac
  done
  case "$cmd" in
    operator-sigkill)   cmd_operator_sigkill "$name" "$namespace" ;;
    apiserver-restart)  restart_static_pod "$name" kube-apiserver ;;
    etcd-restart)       restart_static_pod "$name" etcd ;;
    kubelet-stop)       ((${#args[@]} == 1)) || die "kubelet-stop needs SECONDS"; cmd_kubelet_stop "$name" "${args[0]}" ;;
    containerd-restart) cmd_containerd_restart "$name" ;;
    help | -h | --help | "") usage; [[ -n "$cmd" ]] ;;
    *) usage >&2; die "unknown command '$cmd'" ;;
  esac
}

main "$@"
