# shellcheck shell=bash
# Builds (once) and caches every binary the cluster needs that Debian does not ship:
# kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl,
# kubeadm (for the kind node image, e2e/kind) and etcd from the Go module proxy
# (e2e/cluster/build/k8s), a minimal CoreDNS
# (e2e/cluster/build/coredns), the NetworkPolicy enforcer (e2e/cluster/build/netpol:
# kube-router's policy controller alone) and the pause binary (e2e/cluster/build/pause).
# Outputs go to $CACHE_ROOT/bin/<name>-<version>-<hash of the build inputs>, so a
# change of version or go.sum rebuilds and an unchanged tree reuses the cache.
# Sourced after common.sh.

K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl kubeadm etcd)

# inputs_hash DIR: short hash of a build module's go.mod/go.sum/sources and the Go version.
inputs_hash() {
  (cd "$1" && cat go.mod go.sum ./*.go 2>/dev/null; go version) | sha256sum | cut -c1-12
}

k8s_bin_dir()     { echo "$CACHE_ROOT/bin/k8s-$K8S_VERSION-$(inputs_hash "$CLUSTER_DIR/build/k8s")"; }
coredns_bin_dir() { echo "$CACHE_ROOT/bin/coredns-$COREDNS_VERSION-$(inputs_hash "$CLUSTER_DIR/build/coredns")"; }
pause_bin_dir()   { echo "$CACHE_ROOT/bin/pause-$(inputs_hash "$CLUSTER_DIR/build/pause")"; }
netpol_bin_dir()  { echo "$CACHE_ROOT/bin/netpol-kube-router-$KUBE_ROUTER_VERSION-$(inputs_hash "$CLUSTER_DIR/build/netpol")"; }

# k8s_version_ldflags: stamps the release into the binaries; without it they report
# v0.0.0-master, which kubelet/apiserver version checks and kubectl skew warnings dislike.
k8s_version_ldflags() {
  local v="$K8S_VERSION" major minor pkg flags="-s -w"
  major="$(echo "$v" | sed -E 's/^v([0-9]+)\..*/\1/')"
  minor="$(echo "$v" | sed -E 's/^v[0-9]+\.([0-9]+)\..*/\1/')"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$flags"
}

# go_build_into OUTDIR MODULEDIR LDFLAGS PKG... : one 'go build' for all PKGs, so that
# the packages they share are compiled once. Runs niced: CI and colleagues share 2 cores.
go_build_into() {
  local out="$1" moddir="$2" ldflags="$3"; shift 3
  local tmp="$out.tmp.$$"
  command -v go >/dev/null || die "Go toolchain not found (expected /usr/local/go/bin/go)"
  rm -rf "$tmp" && mkdir -p "$tmp"
  (cd "$moddir" && CGO_ENABLED=0 GOWORK=off GOFLAGS="-trimpath -mod=readonly -buildvcs=false" \
     nice -n 10 go build -ldflags "$ldflags" -o "$tmp/" "$@") \
     || { rm -rf "$tmp"; die "go build failed in $moddir"; }
  rm -rf "$out" && mv "$tmp" "$out"
}

build_k8s_binaries() {
  local out b missing=""
  out="$(k8s_bin_dir)"
  for b in "${K8S_BINARIES[@]}"; do [[ -x "$out/$b" ]] || missing=1; done
  [[ -z "$missing" ]] && return 0
  log "building Kubernetes $K8S_VERSION + etcd $ETCD_VERSION from source (cold: ~13 min on 2 idle cores, more when they are busy)"
  local t0=$SECONDS
  go_build_into "$out" "$CLUSTER_DIR/build/k8s" "$(k8s_version_ldflags)" \
    go.etcd.io/etcd/server/v3 \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet \
    k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubectl k8s.io/kubernetes/cmd/kubeadm
  # go names a /v3-suffixed main package after its parent directory.
  mv "$out/server" "$out/etcd"
  log "Kubernetes binaries built in $((SECONDS - t0))s -> $out"
}

# build_small_binary NAME DESCRIPTION OUTDIR MODULEDIR: one stripped binary NAME from the main package of
# MODULEDIR (go names it after the module path: <directory>build), cached in OUTDIR.
build_small_binary() {
  local name="$1" what="$2" out="$3" moddir="$4"
  [[ -x "$out/$name" ]] && return 0
  log "building $what"
  local t0=$SECONDS
  go_build_into "$out" "$moddir" "-s -w" .
  mv "$out/$(basename "$moddir")build" "$out/$name"
  log "$name built in $((SECONDS - t0))s"
}

build_coredns_binary() {
  build_small_binary coredns "CoreDNS $COREDNS_VERSION (minimal plugin set)" "$(coredns_bin_dir)" "$CLUSTER_DIR/build/coredns"
}

build_netpol_binary() {
  build_small_binary netpol "the NetworkPolicy enforcer (kube-router $KUBE_ROUTER_VERSION policy controller; cold: ~2 min)" \
    "$(netpol_bin_dir)" "$CLUSTER_DIR/build/netpol"
}

build_pause_binary() {
  local out
  out="$(pause_bin_dir)"
  [[ -x "$out/pause" ]] && return 0
  mkdir -p "$out"
  (cd "$CLUSTER_DIR/build/pause" && CGO_ENABLED=0 GOWORK=off GO111MODULE=off go build -trimpath \
     -ldflags "-s -w" -o "$out/pause" pause.go) || die "building pause failed"
}

# build_all: CoreDNS and then the NetworkPolicy enforcer build in the background while
# Kubernetes builds: the Kubernetes build has long single-threaded stretches (linking
# seven big binaries) that their compiles fill, which saves minutes of a cold build on 2
# cores. One after the other, not both at once: three parallel builds would only thrash.
build_all() {
  build_pause_binary
  local side_pid
  (build_coredns_binary && build_netpol_binary) &
  side_pid=$!
  build_k8s_binaries
  wait "$side_pid" || die "CoreDNS or NetworkPolicy enforcer build failed"
}
