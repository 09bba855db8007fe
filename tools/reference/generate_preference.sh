#!/usr/bin/env bash
# Regenerates the preference-loss goldens (TRL's DPO and ORPO losses) under
# trainer-image/src/test/resources/goldens/preference/ (see docs/parity.md).
#
#   bash tools/reference/generate_preference.sh                 # into the test resources
#   bash tools/reference/generate_preference.sh --out /tmp/pref  # anywhere else (a later --out wins)
#
# Creates (once) a venv with the pinned reference stack plus TRL in
# ${FINETUNE_TRL_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/refvenvs/trl} (never in the repo). Needs Python
# 3.11 and the Python package index the first time. Deterministic: fp64 on CPU, one thread.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${FINETUNE_TRL_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/refvenvs/trl}"

if [[ ! -x "$venv/bin/python" ]]; then
  echo "creating the TRL reference venv in $venv" >&2
  "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements-trl.txt"

export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 HF_HUB_OFFLINE=1 PYTHONHASHSEED=0
"$venv/bin/python" "$here/generate_preference.py" --out "$repo/trainer-image/src/test/resources/goldens/preference" "$@"
