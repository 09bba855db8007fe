#!/usr/bin/env bash
# Adapter interop check (docs/parity.md): trains a LoRA adapter with the Java trainer (`finetune run`),
# loads it with HF PEFT and the Java-merged model with HF Transformers, compares logits.
#
#   bash tools/reference/interop.sh [--rslora] [--dora] [--workdir DIR]
#
# Needs: JDK 25 + Maven (builds trainer-image), Python 3.11 (the pinned reference venv of generate.sh),
# the test tokenizers (fetched by the trainer-image build into ~/.cache/finetune/tokenizers).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"
reference_venv "$here/requirements.txt"
cpfile="$(mktemp)"
trap 'rm -f "$cpfile"' EXIT
trainer_classpath "$cpfile" test
cd "$repo"

export DJL_OFFLINE=true DJL_CACHE_DIR="${DJL_CACHE_DIR:-$repo/trainer-image/target/djl-cache}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1
"$venv/bin/python" "$here/interop.py" --classpath-file "$cpfile" "$@"
