#!/usr/bin/env bash
# Kind clusters on this machine, with no container registry: the kind CLI, the node image
# and every image in it are built here (cached), and kind runs in a dedicated Docker daemon
# whose runtime lets its privileged node containers start in this sandbox.
#
#   kind.sh up [--name NAME]            build what is not cached, start the kind Docker daemon,
#                                       create the cluster (default name finetune-e2e), wait
#                                       for a Ready node, CoreDNS and the StorageClass;
#                                       the last line printed is KUBECONFIG=<path>
#   kind.sh kubeconfig [--name NAME]    print the cluster's kubeconfig path
#   kind.sh load IMAGE... [--name NAME] copy images from the machine's Docker daemon into
#                                       the cluster's nodes
#   kind.sh smoke [--name NAME]         PASS/FAIL checks: readyz, node, image runs, PVC,
#                                       headless-Service DNS, ClusterIP, NetworkPolicy
#   kind.sh host-address [--name NAME]  let the pods reach servers on this machine (the node
#                                       masquerades their traffic to the kind network's
#                                       gateway) and print that address
#   kind.sh registry up [--name NAME] [--port PORT]
#                                       start the local registry (idempotent; default port 5001
#                                       or $FINETUNE_KIND_REGISTRY_PORT) and let the nodes pull
#                                       localhost:PORT/... from it; prints localhost:PORT
#   kind.sh registry down [--port PORT] stop the local registry and delete what it stored
#   kind.sh push IMAGE... [--port PORT] push images of the machine's Docker daemon to the local
#                                       registry; prints their in-cluster names, one per line
#   kind.sh down [--name NAME]          delete the cluster (caches and images stay)
#   kind.sh stop-daemon                 stop the kind Docker daemon (and the clusters in it)
#   kind.sh build                       only build/refresh the caches and the node image
#   kind.sh status                      the daemon, the clusters and their nodes
#   kind.sh kind ARGS...                the pinned kind CLI, pointed at the kind daemon
#   kind.sh helm                        print the path of helm (built once, cached; HelmChartE2E)
#
# Several clusters with different names run side by side. Needs root (see docs/testing.md).
set -euo pipefail

KIND_SH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$KIND_SH_DIR/lib/common.sh"
source "$KIND_SH_DIR/lib/tools.sh"
source "$KIND_SH_DIR/lib/images.sh"
source "$KIND_SH_DIR/lib/daemon.sh"
source "$KIND_SH_DIR/lib/nodeimage.sh"
source "$KIND_SH_DIR/lib/cluster.sh"
source "$KIND_SH_DIR/lib/registry.sh"

usage() { sed -n '2,32p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

main() {
  local cmd="${1:-}" name="$DEFAULT_CLUSTER_NAME" args=()
  shift || true
  if [[ "$cmd" == kind ]]; then
    DOCKER_HOST="$KIND_DOCKER_HOST" exec "$(kind_cli)" "$@"
  fi
  while (($#)); do
    case "$1" in
      --name) (($# >= 2)) || die "--name needs a value"; name="$2"; shift 2 ;;
      --name=*) name="${1#--name=}"; shift ;;
      --port) (($# >= 2)) || die "--port needs a value"; REGISTRY_PORT="$2"; shift 2 ;;
      --port=*) REGISTRY_PORT="${1#--port=}"; shift ;;
      *) args+=("$1"); shift ;;
    esac
  done
  [[ "$name" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] \
    || die "--name '$name': use lower-case letters, digits and '-' (it names containers and DNS entries)"
  [[ "$REGISTRY_PORT" =~ ^[1-9][0-9]{0,4}$ ]] && ((REGISTRY_PORT <= 65535)) \
    || die "registry port '$REGISTRY_PORT' (--port or FINETUNE_KIND_REGISTRY_PORT): use a TCP port number, 1-65535"
  case "$cmd" in
    up)          require_root; cmd_up "$name" ;;
    kubeconfig)  cmd_kubeconfig "$name" ;;
    load)        require_root; cmd_load "$name" "${args[@]}" ;;
    smoke)       require_root; source "$KIND_SH_DIR/lib/smoke.sh"; cmd_smoke "$name" ;;
    host-address) require_root; cmd_host_address "$name" ;;
    registry)    require_root; cmd_registry "$name" "${args[@]}" ;;
    push)        cmd_push "${args[@]}" ;;
    down)        require_root; cmd_down "$name" ;;
    stop-daemon) require_root; stop_kind_daemon ;;
    build)       require_root; cmd_build >/dev/null ;;
    status)      cmd_status ;;
    helm)        helm_bin ;;
    help | -h | --help | "") usage; [[ -n "$cmd" ]] ;;
    *) usage >&2; die "unknown command '$cmd'" ;;
  esac
}

main "$@"
