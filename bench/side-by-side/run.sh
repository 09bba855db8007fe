#!/usr/bin/env bash
# Side-by-side CPU benchmark, Java trainer vs HF Trainer + PEFT (docs/benchmarks.md).
#
#   bash bench/side-by-side/run.sh [--threads 1] [--repeats 2] [--train-samples 128] [--results DIR] [--workdir DIR]
#
# Needs: JDK 25 + Maven (builds trainer-image), Python 3.11 (the pinned reference venv, shared with
# tools/reference), the test tokenizers (fetched by the trainer-image build into ~/.cache/finetune/tokenizers).
# Writes bench/side-by-side/results/side-by-side.json and loss-curves.png.
set -euo pipefail
trap 'echo "error: bench/side-by-side/run.sh failed at line $LINENO: $BASH_COMMAND (exit $?)" >&2' ERR

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../tools/reference/lib.sh"
reference_venv "$here/requirements.txt"
cpfile="$(mktemp)"
trap 'rm -f "$cpfile"' EXIT
trainer_classpath "$cpfile"
cd "$repo"

export DJL_CACHE_DIR="${DJL_CACHE_DIR:-$repo/trainer-image/target/djl-cache}"
"$venv/bin/python" "$here/bench.py" --classpath-file "$cpfile" "$@"
