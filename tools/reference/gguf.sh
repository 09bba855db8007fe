#!/usr/bin/env bash
# Regenerates the SmolLM2 GGUF parity goldens (trainer-image/src/test/resources/goldens/gguf/smollm2.json):
# Transformers + PyPI gguf read the real GGUF fixture and record token ids, chat renderings, logits and
# greedy generations for the Java import to match (docs/models.md).
#
#   bash tools/reference/gguf.sh
#
# Uses the pinned reference venv of generate.sh (plus gguf, requirements-gguf.txt) and the fixture that
# trainer-image/src/test/fetch-gguf.sh caches (fetched here when missing). Deterministic on one CPU type.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"
reference_venv "$here/requirements-gguf.txt"
fixture="$(bash "$repo/trainer-image/src/test/fetch-gguf.sh")"

export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false PYTHONHASHSEED=0
export HF_HUB_OFFLINE=1 TRANSFORMERS_NO_ADVISORY_WARNINGS=1 TQDM_DISABLE=1
"$venv/bin/python" "$here/gguf_parity.py" --gguf "$fixture" \
  --out "$repo/trainer-image/src/test/resources/goldens/gguf/smollm2.json" "$@"
