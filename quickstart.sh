#!/usr/bin/env bash
# Quickstart: build the trainer, make a small synthetic Llama-style model and a toy dataset (nothing is
# downloaded; the model is random-initialised, so it shows learning, not knowledge), then fine-tune it on
# CPU with examples/quickstart/finetunejob.yaml, exactly as `kubectl apply` would run it in a cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [[ -z "${JAVA_HOME:-}" ]]; then
  JAVA_HOME=$(ls -d /usr/lib/jvm/*25* 2>/dev/null | head -1 || true)
  export JAVA_HOME
fi
work="${QUICKSTART_DIR:-runs/quickstart}"
# the quickstart model is tiny: one libtorch thread is fastest (more threads only spin, see docs/benchmarks.md)
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
echo "== building the trainer (first build downloads Maven dependencies)"
mvn -B -q -pl trainer-image -am package -DskipTests
echo "== creating the synthetic model and dataset under $work"
trainer-image/finetune quickstart-assets --models "$work/models" --data "$work/data"
echo "== fine-tuning (finetune run examples/quickstart/finetunejob.yaml)"
trainer-image/finetune run examples/quickstart/finetunejob.yaml --resume none \
  --volume models="$work/models" --volume data="$work/data" --volume outputs="$work/outputs"
echo "== done: open $work/outputs/runs/quickstart/report.html"
