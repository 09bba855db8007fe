#!/usr/bin/env bash
# Side-by-side CPU benchmark, Java trainer vs HF Trainer + PEFT (docs/benchmarks.md).
#
#   bash bench/side-by-side/run.sh [--threads 1] [--repeats 2] [--train-samples 128]
#
# Needs: JDK 25 + Maven (builds trainer-image), Python 3.11 (the pinned reference venv, shared with
# tools/reference), the test tokenizers (fetched by the trainer-image build into ~/.cache/finetune/tokenizers).
# Writes bench/side-by-side/results/side-by-side.json and loss-curves.png.
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
mvn -B -q ${MAVEN_OFFLINE:+-o} -pl trainer-image dependency:build-classpath -Dmdep.outputFile="$cpfile.deps" >/dev/null
echo "$repo/api/target/classes:$repo/trainer-image/target/classes:$(cat "$cpfile.deps")" > "$cpfile"
rm -f "$cpfile.deps"

export DJL_CACHE_DIR="${DJL_CACHE_DIR:-$repo/trainer-image/target/djl-cache}"
"$venv/bin/python" "$here/bench.py" --classpath-file "$cpfile" "$@"
