#!/usr/bin/env bash
# Kueue on the e2e cluster, with no container registry: the manager is built from the Go module proxy at a pinned
# release, packed into a tiny local image and loaded into Kind; its CRDs, RBAC, webhooks and Services are upstream's
# config/default, read at run time from the module cache (never committed), with three changes (render):
#   - the manager runs the local image, with small requests (a 2-core Kind node);
#   - its configuration is e2e/kueue/controller_manager_config.yaml: batch/v1 Jobs only, only those labelled
#     kueue.x-k8s.io/queue-name, only in namespaces labelled finetune.dev/kueue=enabled; every webhook has the same
#     namespaceSelector, so the other scenarios' Jobs and Pods never wait on Kueue's webhooks;
#   - the visibility APIService is left out (an aggregated API whose server is down breaks discovery, and with it
#     namespace deletion, for everyone on the cluster).
#
#   kueue.sh build                  build the manager once (cached); prints the binary's path
#   kueue.sh image                  docker build local/kueue:VERSION from it (FROM local/debian:bookworm); prints the tag
#   kueue.sh render                 print the manifests kueue.sh install applies
#   kueue.sh install --name CLUSTER image, load into the Kind cluster, apply, wait for the manager and its webhooks
#                                   (kubectl and KUBECONFIG of that cluster from the environment)
#   kueue.sh uninstall              delete everything install applied (Kueue's CRDs, and with them its objects)
#   kueue.sh fake-gpus [COUNT]      advertise COUNT (default 8) nvidia.com/gpu on every node through the node status
#                                   (the Kubernetes way to advertise an extended resource; a kubelet restart clears it)
#
# Cold: ~3.5 min of compiling on 2 idle cores plus module downloads; warm: instant. Cache:
#   ${XDG_CACHE_HOME:-~/.cache}/finetune-e2e/kueue/<version>-<hash>/kueue
set -euo pipefail

KUEUE_VERSION="v0.17.0"
KUEUE_MODULE="sigs.k8s.io/kueue"
KUEUE_IMAGE="local/kueue:$KUEUE_VERSION"
NAMESPACE_LABEL="finetune.dev/kueue"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_DIR="$(dirname "$HERE")"
CACHE_ROOT="${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/finetune-e2e"
export PATH="/usr/local/go/bin:$PATH" GOWORK=off

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

usage() { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

# module_dir: the pinned Kueue module in the Go module cache (downloaded from the proxy when missing).
module_dir() {
  local dir
  dir="$(cd "${TMPDIR:-/tmp}" && go mod download -json "$KUEUE_MODULE@$KUEUE_VERSION" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -d "$dir/config/default" ]] || die "no config/default in the module cache for $KUEUE_MODULE@$KUEUE_VERSION ($dir)"
  echo "$dir"
}

cmd_build() {
  command -v go >/dev/null || die "Go toolchain not found (expected /usr/local/go/bin/go)"
  local hash out tmp t0=$SECONDS
  hash="$(go version | sha256sum | cut -c1-12)"
  out="$CACHE_ROOT/kueue/$KUEUE_VERSION-$hash"
  if [[ ! -x "$out/kueue" ]]; then
    log "building Kueue $KUEUE_VERSION from the Go module proxy (cold: ~3.5 min on 2 idle cores)"
    tmp="$out.tmp.$$"
    rm -rf "$tmp" && mkdir -p "$tmp"
    (cd "${TMPDIR:-/tmp}" && GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS="-trimpath -mod=readonly -buildvcs=false" \
       nice -n 10 go install -ldflags "-s -w -X $KUEUE_MODULE/pkg/version.GitVersion=$KUEUE_VERSION" \
       "$KUEUE_MODULE/cmd/kueue@$KUEUE_VERSION") \
      || { rm -rf "$tmp"; die "go install of $KUEUE_MODULE/cmd/kueue@$KUEUE_VERSION failed"; }
    rm -rf "$out" && mv "$tmp" "$out"
    log "kueue built in $((SECONDS - t0))s -> $out/kueue"
  fi
  echo "$out/kueue"
}

cmd_image() {
  local binary ctx
  binary="$(cmd_build)"
  docker image inspect local/debian:bookworm >/dev/null 2>&1 \
    || die "local/debian:bookworm missing: run bash e2e/images/base.sh"
  ctx="$(mktemp -d /tmp/kueue-image.XXXXXX)"
  cp "$binary" "$HERE/Dockerfile" "$ctx/"
  docker build -q -t "$KUEUE_IMAGE" "$ctx" >/dev/null || { rm -rf "$ctx"; die "docker build of $KUEUE_IMAGE failed"; }
  rm -rf "$ctx"
  echo "$KUEUE_IMAGE"
}

# indent N: every line of stdin, indented by N spaces.
indent() { sed "s/^/$(printf '%*s' "$1" '')/"; }

cmd_render() {
  local module work webhooks
  module="$(module_dir)"
  work="$(mktemp -d /tmp/kueue-render.XXXXXX)"
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  cp -r "$module/config" "$work/config"
  chmod -R u+w "$work"
  mkdir "$work/overlay"
  webhooks="$(grep -oE 'name: [mv][a-z0-9]+\.kb\.io' "$work/config/components/webhook/manifests.yaml" | awk '{print $2}')"
  [[ -n "$webhooks" ]] || die "no webhooks found in Kueue's config/components/webhook/manifests.yaml"
  {
    cat <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../config/default]
patches:
- target: {kind: Deployment, name: .*controller-manager}
  patch: |-
    - {op: replace, path: /spec/template/spec/containers/0/image, value: "$KUEUE_IMAGE"}
    - {op: replace, path: /spec/template/spec/containers/0/imagePullPolicy, value: IfNotPresent}
    - op: replace
      path: /spec/template/spec/containers/0/resources
      value: {requests: {cpu: 50m, memory: 128Mi}, limits: {cpu: "1", memory: 512Mi}}
- target: {kind: ConfigMap, name: .*manager-config}
  patch: |-
    - op: replace
      path: /data/controller_manager_config.yaml
      value: |
YAML
    grep -v '^#' "$HERE/controller_manager_config.yaml" | indent 8
    cat <<YAML
- target: {kind: APIService}
  patch: |-
    \$patch: delete
    apiVersion: apiregistration.k8s.io/v1
    kind: APIService
    metadata: {name: any}
YAML
    local kind config prefix
    for kind in MutatingWebhookConfiguration ValidatingWebhookConfiguration; do
      [[ "$kind" == Mutating* ]] && prefix=m || prefix=v
      [[ "$kind" == Mutating* ]] && config=mutating-webhook-configuration || config=validating-webhook-configuration
      printf -- '- target: {kind: %s}\n  patch: |-\n    apiVersion: admissionregistration.k8s.io/v1\n' "$kind"
      printf '    kind: %s\n    metadata: {name: %s}\n    webhooks:\n' "$kind" "$config"
      grep "^$prefix" <<<"$webhooks" | while read -r webhook; do
        printf '    - name: %s\n      namespaceSelector: {matchLabels: {%s: enabled}}\n' "$webhook" "$NAMESPACE_LABEL"
      done
    done
  } >"$work/overlay/kustomization.yaml"
  kubectl kustomize "$work/overlay"
}

cmd_install() {
  local name="$1" tag t0=$SECONDS
  [[ -n "$name" ]] || die "install needs --name CLUSTER (the Kind cluster to load the image into)"
  tag="$(cmd_image)"
  bash "$E2E_DIR/kind/kind.sh" load "$tag" --name "$name" >/dev/null
  local existed
  existed="$(kubectl -n kueue-system get deployment kueue-controller-manager -o name 2>/dev/null || true)"
  cmd_render | kubectl apply --server-side --force-conflicts -f - >/dev/null
  # the same tag may now name a newer build: a manager already running restarts on it
  [[ -z "$existed" ]] || kubectl -n kueue-system rollout restart deployment/kueue-controller-manager >/dev/null
  kubectl -n kueue-system rollout status deployment/kueue-controller-manager --timeout=240s >/dev/null \
    || die "Kueue's manager did not become ready: kubectl -n kueue-system logs deployment/kueue-controller-manager"
  # The webhooks answer once the manager has made its certificate and the CA is injected: until then creating a
  # ResourceFlavor fails. A server-side dry run goes through the webhook without storing anything.
  local deadline=$((SECONDS + 120))
  until kubectl create --dry-run=server -f - >/dev/null 2>&1 <<YAML
apiVersion: kueue.x-k8s.io/v1beta2
kind: ResourceFlavor
metadata: {name: kueue-sh-webhook-probe}
YAML
  do
    ((SECONDS < deadline)) || die "Kueue's webhooks did not answer within 120 s"
    sleep 2
  done
  log "Kueue $KUEUE_VERSION installed in $((SECONDS - t0))s (namespaces labelled $NAMESPACE_LABEL=enabled)"
}

cmd_uninstall() {
  cmd_render | kubectl delete --ignore-not-found --wait=true -f - >/dev/null
  log "Kueue uninstalled"
}

cmd_fake_gpus() {
  local count="${1:-8}" node
  [[ "$count" =~ ^[0-9]+$ ]] || die "fake-gpus COUNT: a whole number, got '$count'"
  for node in $(kubectl get nodes -o name); do
    kubectl patch "$node" --subresource=status --type=merge \
      -p "{\"status\":{\"capacity\":{\"nvidia.com/gpu\":\"$count\"},\"allocatable\":{\"nvidia.com/gpu\":\"$count\"}}}" >/dev/null
    log "$node advertises nvidia.com/gpu: $count"
  done
}

main() {
  local cmd="${1:-}" name=""
  shift || true
  local args=()
  while (($#)); do
    case "$1" in
      --name) (($# >= 2)) || die "--name needs a value"; name="$2"; shift 2 ;;
      --name=*) name="${1#--name=}"; shift ;;
      *) args+=("$1"); shift ;;
    esac
  done
  case "$cmd" in
    build) cmd_build ;;
    image) cmd_image ;;
    render) cmd_render ;;
    install) cmd_install "$name" ;;
    uninstall) cmd_uninstall ;;
    fake-gpus) cmd_fake_gpus "${args[@]}" ;;
    help | -h | --help | "") usage; [[ -n "$cmd" ]] ;;
    *) usage >&2; die "unknown command '$cmd'" ;;
  esac
}

main "$@"
