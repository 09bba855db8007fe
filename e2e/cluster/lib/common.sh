# shellcheck shell=bash
# Shared settings and helpers for e2e/cluster/cluster.sh and e2e/images/*.sh.
# Sourced, never executed.

# ---- versions (change here; the build cache is keyed by them) -----------------
K8S_VERSION="${K8S_VERSION:-v1.34.4}"       # must match e2e/cluster/build/k8s/go.mod
ETCD_VERSION="v3.6.4"                       # built from the same module graph
COREDNS_VERSION="v1.12.4"                   # must match e2e/cluster/build/coredns/go.mod
KUBE_ROUTER_VERSION="v2.1.0"                # must match e2e/cluster/build/netpol/go.mod

# ---- paths --------------------------------------------------------------------
E2E_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"        # .../e2e
CLUSTER_DIR="$E2E_ROOT/cluster"
IMAGES_DIR="$E2E_ROOT/images"
# The build cache survives 'down' and is shared by every checkout on the machine.
CACHE_ROOT="${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/finetune-e2e"
# Everything a running cluster owns lives here; 'down' deletes it.
STATE_DIR="${FINETUNE_E2E_STATE:-/var/lib/finetune-e2e}"
RUN_DIR="$STATE_DIR/run"        # pid files
LOG_DIR="$STATE_DIR/logs"
PKI_DIR="$STATE_DIR/pki"
KUBECONFIG_ADMIN="$STATE_DIR/admin.kubeconfig"

# ---- network layout -------------------------------------------------------------
POD_CIDR="10.244.0.0/16"
SERVICE_CIDR="10.96.0.0/16"
KUBERNETES_SVC_IP="10.96.0.1"
# CoreDNS runs on the host and listens on a link-local address added to the host's
# loopback interface (the address NodeLocal DNSCache uses; these kernels have no
# 'dummy' link type): pods reach it through their default route, and it needs neither
# a ClusterIP Service nor a pod image.
DNS_IP="169.254.20.10"
CLUSTER_DOMAIN="cluster.local"
CNI_BRIDGE="fte2e0"
# The NetworkPolicy enforcer's health endpoint (kube-router's default port).
NETPOL_HEALTH_PORT=20244
NODE_NAME="${FINETUNE_E2E_NODE_NAME:-e2e-node}"

export PATH="/usr/local/go/bin:/usr/local/sbin:/usr/sbin:/sbin:$PATH"

# check, summary, wait_for and the other helpers every e2e script shares.
source "$E2E_ROOT/lib/common.sh"

log()  { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die()  { log "ERROR: $*"; exit 1; }

# wait_or_die COMPONENT SECONDS DESCRIPTION COMMAND... : wait_for, and on timeout show the
# end of COMPONENT's log (CI output is often all there is to debug from) and stop.
wait_or_die() {
  local component="$1"; shift
  wait_for "$@" && return 0
  if [[ -f "$LOG_DIR/$component.log" ]]; then
    log "last lines of $LOG_DIR/$component.log:"
    tail -n 25 "$LOG_DIR/$component.log" >&2
  fi
  die "$component did not come up"
}

require_root() {
  [[ $(id -u) -eq 0 ]] || die "must run as root (it starts kubelet, containerd, mounts and iptables rules)"
}

# apt_install PKG... : installs only what is missing, running 'apt-get update' at most once.
APT_UPDATED=""
apt_install() {
  local missing=() p
  for p in "$@"; do
    [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]] || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  log "apt-get install ${missing[*]}"
  if [[ -z "$APT_UPDATED" ]]; then
    apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# start_daemon NAME LOGFILE COMMAND... : runs COMMAND in the background, detached from
# this shell's job control, and records its pid in $RUN_DIR/NAME.pid.
start_daemon() {
  local name="$1" logfile="$2"; shift 2
  mkdir -p "$RUN_DIR" "$(dirname "$logfile")"
  # 9>&- : the daemon must not inherit the lock fd of cluster.sh (see take_lock).
  setsid nohup "$@" >>"$logfile" 2>&1 </dev/null 9>&- &
  echo $! >"$RUN_DIR/$name.pid"
}

daemon_running() {
  local pidfile="$RUN_DIR/$1.pid"
  [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# stop_daemon NAME : TERM, then KILL after 10 s, the process recorded for NAME.
stop_daemon() {
  local pidfile="$RUN_DIR/$1.pid" pid i
  [[ -f "$pidfile" ]] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}
