#!/usr/bin/env bash
# Builds CNCF Distribution's registry (the OCI registry the trainer's push/pull tests run on loopback) from the
# Go module proxy into ~/.cache/finetune-e2e/registry/bin/registry, once; later runs reuse it.
# Needs Go 1.25+ on PATH. Prints the binary's path.
set -euo pipefail
VERSION="${FINETUNE_REGISTRY_VERSION:-v3.1.2}"
DIR="${FINETUNE_REGISTRY_CACHE:-$HOME/.cache/finetune-e2e/registry}"
BIN="$DIR/bin/registry"
if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q " ${VERSION}"; then
  echo "$BIN"
  exit 0
fi
command -v go >/dev/null || { echo "error: go is not on PATH; install Go 1.25+ to build the registry" >&2; exit 1; }
mkdir -p "$DIR/bin"
GOBIN="$DIR/bin" go install "github.com/distribution/distribution/v3/cmd/registry@${VERSION}" >&2
echo "$BIN"
