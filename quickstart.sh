#!/usr/bin/env bash
# Quickstart: build the trainer, make a small synthetic Llama-style model and a toy dataset (nothing is
# downloaded; the model is random-initialised, so it shows learning, not knowledge), then fine-tune it on
# CPU with examples/quickstart/finetunejob.yaml, exactly as `kubectl apply` would run it in a cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
source hack/java25.sh   # a JDK 25+, whatever JAVA_HOME says (the machine default may be 17)
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
