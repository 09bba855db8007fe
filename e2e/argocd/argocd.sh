#!/usr/bin/env bash
# Argo CD against the cluster KUBECONFIG names, run the way upstream runs it for development (its
# Procfile): application-controller, repo-server and the API server (plain HTTP, authentication off,
# on 127.0.0.1 only: it runs resource actions) as host processes (one binary, built by build.sh), Debian's redis-server, ARGOCD_FAKE_IN_CLUSTER=true so that the in-cluster destination
# https://kubernetes.default.svc means KUBECONFIG's cluster. In the cluster: namespace argocd, the
# Application and AppProject CRDs (read from the Go module cache, never committed), argocd-cm with
# deploy/argocd/argocd-cm-patch.yaml, argocd-cmd-params-cm, argocd-rbac-cm, argocd-secret and the
# AppProject "default" (argocd-server, not run here, would create it).
#   KUBECONFIG=... bash e2e/argocd/argocd.sh up      # prints ARGOCD_STATE=<dir> last
#   KUBECONFIG=... bash e2e/argocd/argocd.sh down    # stops the processes, deletes namespace argocd
# Ports (change when they are taken): ARGOCD_REDIS_PORT 16379, ARGOCD_REPO_SERVER_PORT 18081,
# ARGOCD_SERVER_PORT 18080, controller metrics 18082, repo-server metrics 18084, server metrics 18083. State and logs: ARGOCD_STATE (/var/lib/finetune-argocd).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
STATE="${ARGOCD_STATE:-/var/lib/finetune-argocd}"
REDIS_PORT="${ARGOCD_REDIS_PORT:-16379}"
REPO_SERVER_PORT="${ARGOCD_REPO_SERVER_PORT:-18081}"
CONTROLLER_METRICS_PORT="${ARGOCD_CONTROLLER_METRICS_PORT:-18082}"
REPO_SERVER_METRICS_PORT="${ARGOCD_REPO_SERVER_METRICS_PORT:-18084}"
SERVER_PORT="${ARGOCD_SERVER_PORT:-18080}"
SERVER_METRICS_PORT="${ARGOCD_SERVER_METRICS_PORT:-18083}"
KUBECTL="${KUBECTL:-kubectl}"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# module_dir: Argo CD's module in the Go module cache (downloaded if missing), for its CRDs.
module_dir() {
  (cd "$HERE/build" && GOWORK=off GOTOOLCHAIN=go1.27.3 PATH="/usr/local/go/bin:$PATH" \
     go mod download -json github.com/argoproj/argo-cd/v3 | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
}

# start NAME COMMAND...: a host process with its log in $STATE/NAME.log and pid in $STATE/NAME.pid.
start() {
  local name="$1"; shift
  if [[ -f "$STATE/$name.pid" ]] && kill -0 "$(cat "$STATE/$name.pid")" 2>/dev/null; then
    log "$name already running (pid $(cat "$STATE/$name.pid"))"; return 0
  fi
  setsid nohup "$@" >"$STATE/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/$name.pid"
  log "$name started (pid $!, log $STATE/$name.log)"
}

stop() {
  local name="$1" pid
  [[ -f "$STATE/$name.pid" ]] || return 0
  pid="$(cat "$STATE/$name.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/$name.pid"
}

wait_port() {
  local port="$1" what="$2" limit="${3:-60}"
  for _ in $(seq 1 "$limit"); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    kill -0 "$(cat "$STATE/$what.pid")" 2>/dev/null || break
    sleep 1
  done
  tail -n 20 "$STATE/$what.log" >&2 || true
  die "$what did not listen on port $port within ${limit}s (or exited; its log: $STATE/$what.log)"
}

cluster_objects() {
  local dir patch
  dir="$(module_dir)"
  [[ -d "$dir/manifests/crds" ]] || die "Argo CD's module has no manifests/crds (looked in '$dir')"
  "$KUBECTL" create namespace argocd --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
  "$KUBECTL" apply --server-side -f "$dir/manifests/crds/application-crd.yaml" -f "$dir/manifests/crds/appproject-crd.yaml" >/dev/null
  local crd
  for crd in applications.argoproj.io appprojects.argoproj.io; do
    for _ in $(seq 1 60); do
      [[ "$("$KUBECTL" get crd "$crd" -o jsonpath='{.status.conditions[?(@.type=="Established")].status}' 2>/dev/null)" == True ]] && break
      sleep 1
    done
  done
  patch="$REPO/deploy/argocd/argocd-cm-patch.yaml"
  {
    cat <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  namespace: argocd
  labels: {app.kubernetes.io/part-of: argocd}
YAML
    # the project's keys, then a short reconciliation period for the tests
    sed -n '/^data:/,$p' "$patch"
    echo '  timeout.reconciliation: 10s'
    cat <<'YAML'
---
apiVersion: v1
kind: ConfigMap
metadata: {name: argocd-cmd-params-cm, namespace: argocd, labels: {app.kubernetes.io/part-of: argocd}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: argocd-rbac-cm, namespace: argocd, labels: {app.kubernetes.io/part-of: argocd}}
---
apiVersion: v1
kind: Secret
metadata: {name: argocd-secret, namespace: argocd, labels: {app.kubernetes.io/part-of: argocd}}
stringData:
YAML
    echo "  server.secretkey: $(head -c 32 /dev/urandom | base64 | tr -d '\n')"
    cat <<'YAML'
---
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata: {name: default, namespace: argocd}
spec:
  sourceRepos: ['*']
  destinations: [{namespace: '*', server: '*'}]
  clusterResourceWhitelist: [{group: '*', kind: '*'}]
YAML
  } | "$KUBECTL" apply -f - >/dev/null
  log "Argo CD's CRDs, ConfigMaps, Secret and AppProject default applied (CRDs from $dir)"
}

# The repo-server renders a kustomization with `kustomize build DIR` (and asks `kustomize version`); Argo CD's
# image ships kustomize, this host has kubectl's built-in one (the same kustomize API): without a kustomize
# binary on PATH, $STATE/bin/kustomize runs `kubectl kustomize`.
kustomize_shim() {
  rm -f "$STATE/bin/kustomize"
  command -v kustomize >/dev/null && return 0
  cat >"$STATE/bin/kustomize" <<SHIM
#!/usr/bin/env bash
# kustomize for Argo CD's repo-server, written by e2e/argocd/argocd.sh: kubectl's built-in kustomize.
case "\${1:-}" in
  build) shift; exec "$(command -v "$KUBECTL")" kustomize "\$@" ;;
  version) "$(command -v "$KUBECTL")" version --client 2>/dev/null | sed -n 's/^Kustomize Version: //p' ;;
  *) echo "kustomize (kubectl kustomize): only 'build' and 'version' are supported, not: \$*" >&2; exit 1 ;;
esac
SHIM
  chmod 0755 "$STATE/bin/kustomize"
  log "kustomize for the repo-server: kubectl $("$STATE/bin/kustomize" version) ($STATE/bin/kustomize)"
}

up() {
  [[ -n "${KUBECONFIG:-}" ]] || die "KUBECONFIG is not set: point it at the cluster Argo CD should manage"
  command -v redis-server >/dev/null || die "redis-server not found: apt-get install -y redis-server"
  command -v git >/dev/null || die "git not found: apt-get install -y git"
  local argocd
  argocd="$(bash "$HERE/build.sh" | tail -n 1)"
  mkdir -p "$STATE"/{tls,ssh,gpg/keys,gpg/source,tmp,bin}
  cluster_objects
  # the repo-server runs git through this script of Argo CD's (its image has it on PATH)
  install -m 0755 "$(module_dir)/hack/git-verify-wrapper.sh" "$STATE/bin/git-verify-wrapper.sh"
  kustomize_shim
  export KUBECONFIG ARGOCD_FAKE_IN_CLUSTER=true ARGOCD_GPG_ENABLED=false \
    ARGOCD_TLS_DATA_PATH="$STATE/tls" ARGOCD_SSH_DATA_PATH="$STATE/ssh" \
    ARGOCD_GNUPGHOME="$STATE/gpg/keys" ARGOCD_GPG_DATA_PATH="$STATE/gpg/source" TMPDIR="$STATE/tmp"
  start redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no
  wait_port "$REDIS_PORT" redis 20
  start repo-server env PATH="$STATE/bin:$PATH" ARGOCD_BINARY_NAME=argocd-repo-server "$argocd" --port "$REPO_SERVER_PORT" \
    --metrics-port "$REPO_SERVER_METRICS_PORT" --redis "127.0.0.1:$REDIS_PORT" --loglevel info
  wait_port "$REPO_SERVER_PORT" repo-server 60
  start application-controller env ARGOCD_BINARY_NAME=argocd-application-controller "$argocd" \
    --namespace argocd --redis "127.0.0.1:$REDIS_PORT" --repo-server "127.0.0.1:$REPO_SERVER_PORT" \
    --metrics-port "$CONTROLLER_METRICS_PORT" --status-processors 2 --operation-processors 2 \
    --app-resync 10 --loglevel info
  wait_port "$CONTROLLER_METRICS_PORT" application-controller 60
  start server env ARGOCD_BINARY_NAME=argocd-server "$argocd" --namespace argocd --insecure --disable-auth \
    --address 127.0.0.1 --port "$SERVER_PORT" --metrics-port "$SERVER_METRICS_PORT" \
    --redis "127.0.0.1:$REDIS_PORT" --repo-server "127.0.0.1:$REPO_SERVER_PORT" \
    --dex-server http://127.0.0.1:1 --loglevel info
  wait_port "$SERVER_PORT" server 60
  log "Argo CD is up: application-controller, repo-server, API server http://127.0.0.1:$SERVER_PORT against $KUBECONFIG"
  echo "ARGOCD_SERVER=http://127.0.0.1:$SERVER_PORT"
  echo "ARGOCD_STATE=$STATE"
}

down() {
  stop server
  stop application-controller
  stop repo-server
  stop redis
  if [[ -n "${KUBECONFIG:-}" ]]; then
    "$KUBECTL" delete namespace argocd --ignore-not-found --timeout=120s >/dev/null 2>&1 || true
  fi
  log "Argo CD stopped"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) die "usage: $0 up|down (KUBECONFIG names the cluster)" ;;
esac
