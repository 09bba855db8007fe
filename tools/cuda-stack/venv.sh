#!/usr/bin/env bash
# Makes (once) and prints the site-packages of a Python venv holding torch 2.7.1 and the NVIDIA wheels it
# depends on: the library layout of the trainer's CUDA image (pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime
# installs the same packages with pip), without the image. Sourced by check.sh; safe to run alone.
#
#   cache: ${FINETUNE_CUDA_STACK_DIR:-${XDG_CACHE_HOME:-~/.cache}/finetune/cuda-stack}/torch-<version>-py<x.y>
#
# The default package index has only one Linux x86_64 build of torch 2.7.1, the CUDA 12.6 one (its
# nvidia-*-cu12 wheels are the 12.6 versions, NCCL 2.26.2); the image's CUDA 12.8 build comes from
# PyTorch's own index. Same libtorch sources and C++ ABI, different CUDA minor version.
set -euo pipefail

TORCH_VERSION=2.7.1
python_bin="${FINETUNE_CUDA_STACK_PYTHON:-python3}"
py_version="$("$python_bin" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
stack_root="${FINETUNE_CUDA_STACK_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/finetune/cuda-stack}"
venv="$stack_root/torch-$TORCH_VERSION-py$py_version"

if [[ ! -f "$venv/.complete" ]]; then
  # an interrupted install leaves no marker: start over rather than trust a half-installed torch
  rm -rf "$venv"
  mkdir -p "$stack_root"
  echo "cuda-stack: installing torch==$TORCH_VERSION and its CUDA wheels into $venv (a few GB, once)" >&2
  "$python_bin" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --no-cache-dir --only-binary=:all: "torch==$TORCH_VERSION" >&2 || {
    echo "cuda-stack: 'pip install torch==$TORCH_VERSION' failed (needs the default package index; see above)" >&2
    exit 1
  }
  touch "$venv/.complete"
fi
site_packages="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  echo "$site_packages"
fi
