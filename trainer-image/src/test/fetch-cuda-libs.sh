#!/usr/bin/env bash
# Fetches NVIDIA's real libnccl and libcudart from their pinned pip wheels, once, into a cache outside
# the repository, for the NCCL binding suite (-Pnccl, *NcclIT). Run by Maven in pre-integration-test of
# that profile; safe to run by hand. The versions are those the trainer's CUDA image uses (PyTorch 2.7.1,
# CUDA 12.8).
#
#   cache: ${FINETUNE_CUDA_LIBS_DIR:-${XDG_CACHE_HOME:-~/.cache}/finetune/cuda-libs}/<pkg>@<version>/<library>
#
# Sizes measured 2026-11-24: the NCCL wheel is 201 MB (libnccl.so.2 273 MB unpacked; ~8 s to download
# and ~7 s to unpack here), the CUDA runtime wheel 0.95 MB (libcudart.so.12 0.7 MB). Only the library
# files are kept.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cache-entry.sh"

WHEELS=(
  "nvidia-nccl-cu12==2.26.2 nvidia/nccl/lib/libnccl.so.2"
  "nvidia-cuda-runtime-cu12==12.8.57 nvidia/cuda_runtime/lib/libcudart.so.12"
)

cache_root="${FINETUNE_CUDA_LIBS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/finetune/cuda-libs}"
mkdir -p "$cache_root"

for entry in "${WHEELS[@]}"; do
  read -r requirement member <<<"$entry"
  dir="$cache_root/${requirement%%==*}@${requirement##*==}"
  library="$(basename "$member")"
  if [[ -s "$dir/$library" ]]; then
    continue
  fi
  if ! python3 -m pip --version >/dev/null 2>&1; then
    echo "fetch-cuda-libs: pip is needed to fetch $requirement (or place $library in $dir)" >&2
    exit 1
  fi
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$work" "$requirement" || {
    echo "fetch-cuda-libs: 'pip download $requirement' failed; the NCCL suite needs $library in $dir" >&2
    exit 1
  }
  staged="$(stage_entry "$cache_root")"
  python3 - "$work" "$member" "$staged/$library" <<'PY'
import glob, shutil, sys, zipfile
work, member, target = sys.argv[1:]
wheel = glob.glob(work + "/*.whl")[0]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(target, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  publish_entry "$staged" "$dir" "$work"
  echo "fetch-cuda-libs: cached $library of $requirement in $dir"
done
