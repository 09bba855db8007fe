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
repo="$(cd "$here/../.." && pwd)"
venv="${FINETUNE_REF_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/finetune/refvenv}"
python="${PYTHON:-python3}"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
export PATH="$JAVA_HOME/bin:$PATH"

if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"

cd "$repo"
mvn -B -q ${MAVEN_OFFLINE:+-o} -pl trainer-image -am test-compile
cpfile="$(mktemp)"
trap 'rm -f "$cpfile"' EXIT
mvn -B -q ${MAVEN_OFFLINE:+-o} -pl trainer-image dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cpfile.deps" >/dev/null
echo "$repo/api/target/classes:$repo/trainer-image/target/classes:$repo/trainer-image/target/test-classes:$(cat "$cpfile.deps")" > "$cpfile"
rm -f "$cpfile.deps"

export DJL_OFFLINE=true DJL_CACHE_DIR="${DJL_CACHE_DIR:-$repo/trainer-image/target/djl-cache}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1
"$venv/bin/python" "$here/interop.py" --classpath-file "$cpfile" "$@"
