#!/usr/bin/env bash
# llama.cpp itself loads our GGUF exports (docs/models.md, "Back to llama.cpp and Ollama"). Takes a fine-tuned
# SmolLM2-135M-Instruct run in the layout of examples/smollm2/run.sh (models/, data/, outputs/runs/smollm2-small/):
# by default runs/llama-cpp-check/smollm2, trained there with `run.sh --small` when it has no adapter yet; .ci/run
# passes trainer-image/target/smollm2-small, left by Smollm2ExampleGgufIT (mvn -Psmollm2). Exports the fp32
# import as an F32 GGUF and the trained adapter as a GGUF LoRA adapter, then compares greedy generations of
# llama.cpp (built from source through llama-cpp-python, tools/llama-cpp/venv.sh, cached) with `finetune generate`
# on three held-out prompts, without and with the adapter (tools/llama-cpp/check_adapter.py).
#
#   bash tools/llama-cpp/check.sh [SMOLLM2_DIR]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source hack/java25.sh
source tools/llama-cpp/venv.sh
run="${1:-runs/llama-cpp-check/smollm2}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

model="$run/models/smollm2-135m-instruct"
adapter="$run/outputs/runs/smollm2-small/adapter"
if [[ ! -s "$adapter/adapter_model.safetensors" ]]; then
  if [[ -n "${1:-}" ]]; then
    echo "error: $adapter has no adapter_model.safetensors: run mvn -Psmollm2 (Smollm2ExampleGgufIT) first, or omit the argument" >&2
    exit 1
  fi
  SMOLLM2_DIR="$run" bash examples/smollm2/run.sh --small
fi
[[ -n "$(ls trainer-image/target/finetune-trainer-*.jar 2>/dev/null)" ]] || mvn -B -q -ntp -pl trainer-image -am package -DskipTests
mkdir -p "$run/gguf"
trainer-image/finetune export-gguf --model "$model" --out "$run/gguf/smollm2-f32.gguf" --type f32
trainer-image/finetune export-gguf --model "$model" --adapter "$adapter" --out "$run/gguf/smollm2-lora.gguf"
"$llama_python" tools/llama-cpp/check_adapter.py --finetune trainer-image/finetune --model "$model" \
  --adapter "$adapter" --base-gguf "$run/gguf/smollm2-f32.gguf" --adapter-gguf "$run/gguf/smollm2-lora.gguf" \
  --prompts "$run/data/smollm2/test.jsonl" --count 3 --max-new-tokens 32
