#!/usr/bin/env bash
# Packing against padding on the same data (docs/benchmarks.md, "Packing by default"): the quickstart's
# synthetic model learns a counting task whose replies are 1-100 numbers long, so unpacked batches are padded
# to their longest sample. For each training-set size, the same FineTuneJob runs with dataset.packing false
# and true (3 epochs, batch 8, maxSeqLength 128, the same 200-sample eval file); prints, per run, the
# optimizer steps per epoch, the training seconds, the eval loss after each epoch, and the packing line of
# the dataset report (what the rule decides when dataset.packing is unset).
#
#   bash bench/packing/run.sh [--sizes "400 1600 6400"] [--workdir DIR]
#
# Needs: JDK 25 + Maven (builds trainer-image), Python 3.
set -euo pipefail
trap 'echo "error: bench/packing/run.sh failed at line $LINENO: $BASH_COMMAND (exit $?)" >&2' ERR
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source hack/java25.sh
sizes="400 1600 6400"
work=runs/bench-packing
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sizes) sizes="$2"; shift 2 ;;
    --workdir) work="$2"; shift 2 ;;
    *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
mvn -B -q -ntp -pl trainer-image -am package -DskipTests
rm -rf "$work" && mkdir -p "$work/data"
trainer-image/finetune quickstart-assets --models "$work/models" --data "$work/quickstart-data" >/dev/null

# alpaca records "Count on from . <a>" -> the next n numbers (mod 40), n uniform in 1..100
count_data() { # FILE RECORDS SEED
  python3 - "$@" <<'PY'
import json, random, sys
path, records, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(seed)
with open(path, "w") as f:
    for _ in range(records):
        a, n = r.randrange(40), r.randint(1, 100)
        f.write(json.dumps({"instruction": "Count on from .", "input": str(a),
                            "output": " ".join(str((a + k) % 40) for k in range(1, n + 1))}) + "\n")
PY
}
count_data "$work/data/eval.jsonl" 200 1

for size in $sizes; do
  count_data "$work/data/train-$size.jsonl" "$size" 2
  for packing in false true; do
    name="count-$size-packing-$packing"
    cat > "$work/$name.yaml" <<YAML
apiVersion: finetune.dev/v1alpha1
kind: FineTuneJob
metadata: {name: $name}
spec:
  model: {pvc: {claimName: models, path: quickstart-llama}}
  dataset:
    pvc: {claimName: data, path: train-$size.jsonl}
    evalPath: eval.jsonl
    format: alpaca
    maxSeqLength: 128
    packing: $packing
  lora: {rank: 8, alpha: 16, dropout: 0.0, targetModules: [all-linear]}
  training: {epochs: 3, learningRate: 3.0e-3, scheduler: cosine, warmupSteps: 5, batchSize: 8, precision: fp32,
             seed: 42, logEverySteps: 10, samplePrompts: 0}
  resources: {gpus: 0, cpu: "2", memory: 4Gi}
  output: {pvc: {claimName: outputs, path: $name}}
YAML
    trainer-image/finetune run "$work/$name.yaml" --resume none --volume models="$work/models" \
      --volume data="$work/data" --volume outputs="$work/outputs" > "$work/$name.log" 2>&1
    unset_rule=$(sed -n 's/^  packing  *//p' "$work/$name.log")
    python3 - "$work/outputs/$name/manifest.json" "$size" "$packing" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
epochs = [h for h in m["history"] if h.get("epochEnd")]
print(json.dumps({"trainSamples": int(sys.argv[2]), "packing": sys.argv[3] == "true",
                  "optimizerStepsPerEpoch": epochs[0]["step"], "trainSeconds": round(m["trainSeconds"], 1),
                  "evalLossPerEpoch": [round(h["evalLoss"], 4) for h in epochs]}))
PY
  done
  # the decision the rule makes for this size when dataset.packing is unset
  sed -i '/^    packing: /d' "$work/count-$size-packing-false.yaml"
  trainer-image/finetune run "$work/count-$size-packing-false.yaml" --dry-run --volume models="$work/models" \
    --volume data="$work/data" --volume outputs="$work/outputs" | sed -n 's/^  packing  *\(.*\)/  unset: \1/p'
done
