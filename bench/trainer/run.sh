#!/usr/bin/env bash
# Trainer CPU throughput matrix (docs/benchmarks.md): tokens/s and peak RSS per configuration, one JVM each.
#
#   bash bench/trainer/run.sh            # quickstart model + ~30M Llama, seq 256/512, fp32/bf16, checkpointing off/on
#   STEPS=4 WARMUP=1 THREADS=1 bash bench/trainer/run.sh   (THREADS = libtorch intra-op threads)
#
# Needs a build: mvn -B -q -pl trainer-image -am package -DskipTests. Writes bench/trainer/results.jsonl.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
jar=$(ls "$repo"/trainer-image/target/finetune-trainer-*.jar | grep -v -e sources -e tests | head -1)
java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}java"
export DJL_CACHE_DIR="${DJL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/finetune/djl}"
export OMP_NUM_THREADS="${THREADS:-1}"
steps="${STEPS:-4}"
warmup="${WARMUP:-1}"
out="$here/results.jsonl"
: > "$out"
run() {
  "$java_bin" --enable-native-access=ALL-UNNAMED -Dai.djl.offline=true -Dai.djl.pytorch.graph_optimizer=false \
    -cp "$jar" dev.finetune.trainer.bench.ThroughputBenchmark steps="$steps" warmup="$warmup" "$@" 2>/dev/null \
    | grep '^{' | tee -a "$out"
}
# the quickstart model (examples/quickstart): 84k parameters, batch 8 rows of 32 tokens
for p in fp32 bf16; do
  run name=quickstart hidden=64 layers=2 heads=4 kvHeads=2 intermediate=128 vocab=80 seq=32 batch=8 precision=$p
done
# ~30M-parameter Llama (hidden 512, 8 layers, vocab 8000, untied head: 33.5M)
for seq in 256 512; do
  for p in fp32 bf16; do
    for ckpt in false true; do
      run name=llama-33m hidden=512 layers=8 heads=8 kvHeads=8 intermediate=1376 vocab=8000 seq=$seq batch=1 \
        precision=$p checkpointing=$ckpt
    done
  done
done
