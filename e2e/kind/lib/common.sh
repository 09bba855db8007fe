# shellcheck shell=bash
# Settings of e2e/kind/kind.sh. Builds on the host-process cluster's settings and build
# scripts (e2e/cluster/lib/common.sh, build.sh): same Kubernetes, etcd, CoreDNS, pause and
# NetworkPolicy enforcer builds, same cache root. Sourced, never executed.

KIND_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KIND_DIR="$(dirname "$KIND_LIB_DIR")"                      # .../e2e/kind
source "$KIND_DIR/../cluster/lib/common.sh"
source "$CLUSTER_DIR/lib/build.sh"

# ---- versions (the build cache is keyed by them) --------------------------------
KIND_VERSION="v0.33.0"          # the kind CLI; the node image contract is tested against it
CRICTL_VERSION="v1.34.0"        # cri-tools, matches Kubernetes 1.34 (kind load uses crictl)
LOCAL_PATH_VERSION="v0.0.30"    # rancher/local-path-provisioner: the default StorageClass
HELM_VERSION="v3.22.0"          # helm, for the e2e scenario that installs the chart (HelmChartE2E)
NODE_SUITE="trixie"             # Debian release of the node's base image
# The component images are made locally under a repository name of our own, which the kind
# configuration gives kubeadm (imageRepository); the tags are those kubeadm $K8S_VERSION asks
# for (kubeadm config images list), so nothing is ever pulled. etcd is our $ETCD_VERSION
# build, so its tag is set in the kubeadm configuration (etcd.local.imageTag), not faked.
K8S_IMAGE_REPO="local/k8s"
PAUSE_TAG="3.10.1"
COREDNS_TAG="v1.12.1"
ETCD_TAG="${ETCD_VERSION#v}-0"

DEFAULT_CLUSTER_NAME="finetune-e2e"

# ---- paths --------------------------------------------------------------------
KIND_CACHE="$CACHE_ROOT/kind"                 # kind CLI, rootfs and image tarballs
# The dedicated Docker daemon (lib/daemon.sh): nothing of it is shared with the machine's
# default daemon, so kind's privileged node containers live apart from everyone's images.
KIND_DOCKER_ROOT="${FINETUNE_KIND_DOCKER_ROOT:-/var/lib/finetune-kind/docker}"
KIND_DOCKER_RUN="/run/finetune-kind"
KIND_DOCKER_SOCK="$KIND_DOCKER_RUN/docker.sock"
KIND_DOCKER_PIDFILE="$KIND_DOCKER_RUN/docker.pid"
KIND_DOCKER_LOG="/var/log/finetune-e2e/kind-dockerd.log"
KIND_DOCKER_HOST="unix://$KIND_DOCKER_SOCK"
KIND_RUNTIME_WRAPPER="$KIND_DIR/runc-nosysres"
# The docker network kind attaches nodes to, created by us with a fixed bridge name and
# subnet (kind uses an existing network named 'kind' as it is).
KIND_NETWORK="kind"
KIND_BRIDGE="ftkind0"
KIND_SUBNET="172.29.0.0/16"
# Kubeconfigs of the clusters, one file per cluster name.
KIND_KUBECONFIG_DIR="${FINETUNE_KIND_KUBECONFIG_DIR:-/var/lib/finetune-kind/kubeconfig}"
KIND_BUILD_LOCK="/run/lock/finetune-kind-build.lock"

# Functions whose output is captured with $(...) run without errexit there (bash does not
# inherit it): they check each step with '|| die' themselves.

# kd ARGS...: docker CLI against the dedicated daemon.
kd() { DOCKER_HOST="$KIND_DOCKER_HOST" docker "$@"; }

# content_hash FILE_OR_DIR...: short hash of the contents (names and bytes) of the inputs.
content_hash() {
  local p
  for p in "$@"; do
    if [[ -d "$p" ]]; then
      (cd "$p" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    else
      sha256sum "$p"
    fi
  done | sha256sum | cut -c1-12
}

# timed NAME COMMAND...: runs COMMAND and logs how long it took (the docs' timings).
timed() {
  local name="$1" t0=$SECONDS; shift
  "$@" || return
  log "timing: $name $((SECONDS - t0))s"
}
