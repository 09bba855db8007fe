#!/usr/bin/env bash
# Builds (once) and caches Argo CD's single binary from the Go module proxy, the version that
# build/go.mod pins, and prints the binary's path as its last line.
#   bash e2e/argocd/build.sh            # cold: ~6-8 min on 2 cores; warm: instant
# The cache is keyed by the version and a hash of build/go.mod, go.sum and the toolchain:
#   ~/.cache/finetune-e2e/argocd/<version>-<hash>/argocd
# Argo CD v3.6 needs Go >= 1.27; the go command fetches that toolchain (GOTOOLCHAIN) itself.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD_DIR="$HERE/build"
ARGOCD_GO_TOOLCHAIN="go1.27.3"
CACHE_ROOT="${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/finetune-e2e"
export PATH="/usr/local/go/bin:$PATH" GOWORK=off GOTOOLCHAIN="$ARGOCD_GO_TOOLCHAIN"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v go >/dev/null || die "Go toolchain not found (expected /usr/local/go/bin/go)"
version="$(awk '$1 == "require" && $2 == "github.com/argoproj/argo-cd/v3" {print $3}' "$BUILD_DIR/go.mod")"
[[ -n "$version" ]] || die "$BUILD_DIR/go.mod: no 'require github.com/argoproj/argo-cd/v3 <version>' line"
hash="$( (cd "$BUILD_DIR" && cat go.mod go.sum ./*.go; echo "$ARGOCD_GO_TOOLCHAIN") | sha256sum | cut -c1-12)"
out="$CACHE_ROOT/argocd/$version-$hash"

if [[ ! -x "$out/argocd" ]]; then
  log "building Argo CD $version from the Go module proxy (cold: ~6-8 min on 2 idle cores)"
  t0=$SECONDS
  tmp="$out.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  (cd "$BUILD_DIR" && CGO_ENABLED=0 GOFLAGS="-trimpath -mod=readonly -buildvcs=false" \
     nice -n 10 go build -ldflags "-s -w -X github.com/argoproj/argo-cd/v3/common.version=${version#v}" \
     -o "$tmp/argocd" github.com/argoproj/argo-cd/v3/cmd) \
    || { rm -rf "$tmp"; die "go build of Argo CD failed in $BUILD_DIR"; }
  rm -rf "$out" && mv "$tmp" "$out"
  log "argocd built in $((SECONDS - t0))s -> $out/argocd"
fi
echo "$out/argocd"
