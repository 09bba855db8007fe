#!/usr/bin/env bash
# llama.cpp itself loads our GGUF exports (docs/models.md, "Back to llama.cpp and Ollama"): fine-tunes
# SmolLM2-135M-Instruct at examples/smollm2's CI size (cached in WORK), exports the fp32 import as an F32 GGUF
# and the trained adapter as a GGUF LoRA adapter, and compares greedy generations of llama.cpp (built from
# source through llama-cpp-python, tools/llama-cpp/venv.sh) with `finetune generate` on held-out prompts,
# with and without the adapter (tools/llama-cpp/check_adapter.py).
#
#   bash tools/llama-cpp/check.sh [WORK]     (default runs/llama-cpp-check)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source hack/java25.sh
source tools/llama-cpp/venv.sh
work="${1:-runs/llama-cpp-check}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

model="$work/smollm2/models/smollm2-135m-instruct"
adapter="$work/smollm2/outputs/runs/smollm2-small/adapter"
if [[ ! -s "$adapter/adapter_model.safetensors" ]]; then
  SMOLLM2_DIR="$work/smollm2" bash examples/smollm2/run.sh --small
else
  mvn -B -q -ntp -pl trainer-image -am package -DskipTests
fi
trainer-image/finetune export-gguf --model "$model" --out "$work/smollm2-f32.gguf" --type f32
trainer-image/finetune export-gguf --model "$model" --adapter "$adapter" --out "$work/smollm2-lora.gguf"
"$llama_python" tools/llama-cpp/check_adapter.py --finetune trainer-image/finetune --model "$model" \
  --adapter "$adapter" --base-gguf "$work/smollm2-f32.gguf" --adapter-gguf "$work/smollm2-lora.gguf" \
  --prompts "$work/smollm2/data/smollm2/test.jsonl" --count 3 --max-new-tokens 32
