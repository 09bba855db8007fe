#!/usr/bin/env bash
# Regenerates the HF Transformers + PEFT parity goldens under
# trainer-image/src/test/resources/goldens/parity/ (see docs/parity.md).
#
#   bash tools/reference/generate.sh
#
# Creates (once) a venv with the pinned reference stack in
# ${FINETUNE_REF_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/finetune/refvenv} (never in the repo), then runs
# the generator on CPU with one thread. Needs Python 3.11 and network access to the Python package
# index the first time (torch 2.7.1 is a large download). Deterministic: a second run rewrites
# byte-identical files on the same CPU type.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${FINETUNE_REF_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/finetune/refvenv}"
python="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/python" ]]; then
  echo "creating reference venv in $venv" >&2
  "$python" -m venv "$venv"
fi
# pip is a no-op when the pinned versions are already there
"$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"

export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
export HF_HUB_OFFLINE=1 TRANSFORMERS_NO_ADVISORY_WARNINGS=1 PYTHONHASHSEED=0
"$venv/bin/python" "$here/generate_parity.py" --out "$repo/trainer-image/src/test/resources/goldens/parity" "$@"
