# shellcheck shell=bash
# Cached builds of the Go programs kind needs beyond the host cluster's builds, each from
# the Go module proxy at a pinned version: the kind CLI, crictl (kind load and kubeadm use
# it in the node), local-path-provisioner (the default StorageClass) and helm (the e2e
# scenario that installs the Helm chart). Outputs go to
# $KIND_CACHE/bin/<name>-<version>-<hash of the Go version>. Sourced after common.sh.

go_tool_dir() { echo "$KIND_CACHE/bin/$1-$2-$(go version | sha256sum | cut -c1-8)"; }

# go_install_cached NAME VERSION MODULE_PATH/PKG: 'go install PKG@VERSION' into the cache.
# -mod=mod: these modules are built as released (no replace directives), their go.sum is
# checked against the checksum database.
go_install_cached() {
  local name="$1" version="$2" pkg="$3" dir
  dir="$(go_tool_dir "$name" "$version")"
  if [[ ! -x "$dir/$name" ]]; then
    log "building $name $version from the Go module proxy ($pkg)"
    local t0=$SECONDS tmp="$dir.tmp.$$"
    rm -rf "$tmp" && mkdir -p "$tmp"
    GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS="-mod=mod -trimpath -buildvcs=false" \
      nice -n 10 go install -ldflags "-s -w" "$pkg@$version" >&2 \
      || { rm -rf "$tmp"; die "go install $pkg@$version failed"; }
    [[ -x "$tmp/$name" ]] || mv "$tmp/$(basename "$pkg")" "$tmp/$name"
    rm -rf "$dir" && mv "$tmp" "$dir"
    log "timing: build $name $((SECONDS - t0))s"
  fi
  echo "$dir/$name"
}

kind_cli()        { go_install_cached kind "$KIND_VERSION" sigs.k8s.io/kind; }
crictl_bin()      { go_install_cached crictl "$CRICTL_VERSION" sigs.k8s.io/cri-tools/cmd/crictl; }
local_path_bin()  { go_install_cached local-path-provisioner "$LOCAL_PATH_VERSION" github.com/rancher/local-path-provisioner; }
helm_bin()        { go_install_cached helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm; }
