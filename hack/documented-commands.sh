#!/usr/bin/env bash
# Runs every tool command that README.md and docs/ show, each in its smallest form, on a fresh clone (a CI
# step in .ci/run). Commands that .ci/run already runs in full (bash test.sh, bash quickstart.sh, the cluster,
# image and e2e scripts, tools/cuda-stack/check.sh, the -Pnccl suite) are listed, not run twice.
# Prints PASS/FAIL per command and "documented commands: N passed, M failed"; exits 1 on any failure.
#
#   bash hack/documented-commands.sh            # ~15-25 min on 2 cores, most of it the Python peers
#   FINETUNE_DOCS_QUICK=1 bash hack/documented-commands.sh   # the finetune CLI commands only (~3 min)
#
# Nothing is written inside the repository except Maven's target/ directories; work files go to a temp dir.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$(pwd)"
source hack/java25.sh
work="$(mktemp -d /tmp/finetune-docs-XXXXXX)"
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
passed=0
failed=0
failures=()

# step "what the docs show (where)" command...: runs it with its output in a log, PASS/FAIL with the time.
step() {
  local name="$1" log start rc
  shift
  log="$work/log-$((passed + failed + 1)).txt"
  start=$(date +%s)
  "$@" >"$log" 2>&1
  rc=$?
  if [[ $rc -eq 0 ]]; then
    passed=$((passed + 1))
    printf 'PASS  %-78s %4ss\n' "$name" "$(( $(date +%s) - start ))"
  else
    failed=$((failed + 1))
    failures+=("$name")
    printf 'FAIL  %-78s exit %s\n' "$name" "$rc"
    tail -n 40 "$log" | sed 's/^/      | /'
  fi
}

covered() {  # a documented command that another .ci/run step runs
  printf 'CI    %-78s %s\n' "$1" "($2)"
}

# expect_in FILE TEXT...: the file holds every text (output checks of a step)
expect_in() {
  local file="$1"
  shift
  for text in "$@"; do
    grep -qF -- "$text" "$file" || { echo "expected in $file: $text"; cat "$file"; return 1; }
  done
}

finetune=trainer-image/finetune
models="$work/models"
data="$work/data"
out="$work/outputs"
job="$work/job.yaml"
# the quickstart job, one epoch of 8 steps: the smallest form of `finetune run`
sed -e 's/epochs: 4/epochs: 1\n    maxSteps: 8/' -e 's/samplePrompts: 2/samplePrompts: 1/' \
  examples/quickstart/finetunejob.yaml > "$job"
volumes=(--volume "models=$models" --volume "data=$data" --volume "outputs=$out")

echo "== the finetune CLI (README.md, docs/trainer.md, docs/data.md)"
step "mvn -B -q -pl trainer-image -am package -DskipTests (trainer.md, benchmarks.md)" \
  mvn -B -ntp -q -pl trainer-image -am package -DskipTests
step "finetune quickstart-assets --models DIR --data DIR (trainer.md)" \
  "$finetune" quickstart-assets --models "$models" --data "$data"
# the launcher finds the JDK 25 itself when the machine's java is older (PATH without JAVA_HOME's bin)
step "trainer-image/finetune with the machine's default java first on PATH (README.md)" bash -c '
  env -u JAVA_HOME PATH=/usr/bin:/bin "$0" --version | grep -q "finetune 0.1.0"' "$finetune"
step "finetune --help and every subcommand's --help (trainer.md)" bash -c '
  "$0" --help >/dev/null && for c in $("$0" --help | sed -n "s/^  \([a-z-]*\) .*/\1/p"); do
    "$0" "$c" --help | grep -q "Usage: finetune $c" || { echo "$c --help failed"; exit 1; }; done' "$finetune"
step "finetune check-data JOB.yaml --volume ... (data.md)" bash -c '
  "$0" check-data "$1" --volume "models=$2" --volume "data=$3" > "$4/check.txt" 2> "$4/check.err" &&
  grep -q "records          400 read" "$4/check.txt" && grep -q "^ok: " "$4/check.txt"' "$finetune" "$job" "$models" "$data" "$work"
step "finetune run --dry-run JOB.yaml --volume ... (trainer.md): quiet start-up, nothing written" bash -c '
  "$0" run --dry-run "$1" --volume "models=$2" --volume "data=$3" --volume "outputs=$4" > "$5/dry.txt" 2> "$5/dry.err" &&
  grep -q "nothing was trained (--dry-run)" "$5/dry.txt" && [ ! -e "$4" ] &&
  { ! grep -E "WARNING|SLF4J|AutoNonVariableTypeMode" "$5/dry.err"; }' "$finetune" "$job" "$models" "$data" "$out" "$work"
step "finetune run JOB.yaml --volume CLAIM=DIR ... (README.md, trainer.md)" \
  "$finetune" run "$job" --resume none "${volumes[@]}"
run_dir="$out/runs/quickstart"
step "finetune generate --model DIR --adapter DIR --prompt TEXT --chat ... (trainer.md)" \
  "$finetune" generate --model "$models/quickstart-llama" --adapter "$run_dir/adapter" --prompt "Continue the sequence . 3 4 5" \
  --chat --max-new-tokens 3 --temperature 0.7 --top-k 5 --top-p 0.9 --seed 1 --precision fp32
step "finetune merge --model DIR --adapter DIR --out DIR (trainer.md)" \
  "$finetune" merge --model "$models/quickstart-llama" --adapter "$run_dir/adapter" --out "$work/merged"
step "finetune inspect DIR: a model, an adapter, a run (trainer.md)" bash -c '
  "$0" inspect "$1" | grep -q "^model " && "$0" inspect "$2/adapter" | grep -q "PEFT LoRA adapter" &&
  "$0" inspect "$2" | grep -q "ended: succeeded"' "$finetune" "$work/merged" "$run_dir"
step "finetune import-gguf FILE --out DIR --dtype fp32 (models.md), the SmolLM2 GGUF" bash -c '
  gguf="$(bash trainer-image/src/test/fetch-gguf.sh)" && "$0" import-gguf "$gguf" --out "$1/smollm2" --dtype fp32 \
    | grep -q "imported SmolLM2-135M-Instruct.Q4_1.gguf: llama, 272 tensors"' "$finetune" "$work"
step "finetune import-gguf on a truncated file: BAD_MODEL naming the tensor (models.md)" bash -c '
  head -c 97400000 "$(bash trainer-image/src/test/fetch-gguf.sh)" > "$1/cut.gguf"
  "$0" import-gguf "$1/cut.gguf" --out "$1/cutout" 2> "$1/cut.err"; [[ $? -eq 66 ]] &&
  grep -q "tensor blk.9.ffn_up.weight (Q4_1, shape \[1536, 576\]) needs bytes" "$1/cut.err"' "$finetune" "$work"
step "finetune export-gguf --model DIR --out FILE --type q8_0, and --adapter (models.md)" bash -c '
  "$0" export-gguf --model "$1/smollm2" --out "$1/smollm2-q8_0.gguf" --type q8_0 | grep -q "272 tensors {F32=61, Q8_0=211}"' \
  "$finetune" "$work"
step "finetune run JOB.yaml --nproc 2 (trainer.md, distributed.md)" \
  "$finetune" run "$job" --resume none --nproc 2 --volume "models=$models" --volume "data=$data" --volume "outputs=$work/nproc"
# the DPO example on the quickstart model, its data from the repository (~10 s)
step "finetune run examples/dpo-summary.yaml (trainer.md): DPO learns the preference" bash -c '
  "$0" run examples/dpo-summary.yaml --resume none --volume "models=$1" --volume data=examples/dpo-summary \
    --volume "outputs=$2" > "$3/dpo.txt" && grep -q "rewards at step 72: accuracy 1.0000" "$3/dpo.txt"' \
  "$finetune" "$models" "$work/dpo" "$work"
covered "finetune run --config trainer-config.json (trainer.md)" "Kind: the JUnit e2e suite (every worker pod runs it); FinetuneCliTest"
# every `finetune <subcommand>` the docs name exists
step "every finetune subcommand named in README.md and docs/ exists" bash -c '
  known=" $("$0" --help | sed -n "s/^  \([a-z-]*\) .*/\1/p" | tr "\n" " ") "
  named=$(grep -ohE "finetune (run|[a-z]+-[a-z-]+|generate|merge|inspect|check-data|quickstart-assets|inspect-data|import-[a-z]+|export-[a-z]+)\b" README.md docs/*.md \
    | awk "{print \$2}" | sort -u)
  for c in $named; do [[ "$known" == *" $c "* ]] || { echo "docs name finetune $c, which does not exist"; exit 1; }; done' "$finetune"

if [[ -z "${FINETUNE_DOCS_QUICK:-}" ]]; then
  echo "== test selections the docs show"
  step "mvn ... test -Dtest='dev.finetune.trainer.data.**' (data.md)" \
    mvn -B -ntp -q -pl trainer-image -am test -Dtest='dev.finetune.trainer.data.**' -Dsurefire.failIfNoSpecifiedTests=false
  step "mvn ... test -Dtest='dev.finetune.trainer.parity.**' (parity.md)" \
    mvn -B -ntp -q -pl trainer-image -am test -Dtest='dev.finetune.trainer.parity.**' -Dsurefire.failIfNoSpecifiedTests=false
  step "FINETUNE_UPDATE_RELIABILITY=1 bash test.sh ... -Dtest=ReliabilityTableTest, table unchanged (reliability.md)" bash -c '
    FINETUNE_UPDATE_RELIABILITY=1 bash test.sh -pl trainer-image -am -Dtest=ReliabilityTableTest \
      -Dsurefire.failIfNoSpecifiedTests=false -q && git diff --exit-code -- docs/reliability.md'
  step "mvn -pl api -Pupdate-crds process-classes, CRD unchanged (operator.md)" bash -c '
    mvn -B -ntp -q -pl api -Pupdate-crds process-classes && git diff --exit-code -- crds/'

  echo "== benchmarks (benchmarks.md), smallest form"
  step "mvn ... verify -Pslow -Dit.test=TokenizationThroughputIT (benchmarks.md), 200 records" \
    mvn -B -ntp -q -pl trainer-image -am verify -Pslow -Dit.test=TokenizationThroughputIT -Dtest=none \
      -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false -Dbench.records=200
  step "python tools/reference/chat_templates/bench_peer.py (benchmarks.md), 200 records" bash -c '
    python3 -m venv "$0/ctvenv" && "$0/ctvenv/bin/pip" install -q --disable-pip-version-check \
      -r tools/reference/chat_templates/requirements.txt &&
    "$0/ctvenv/bin/python" tools/reference/chat_templates/bench_peer.py \
      --tokenizer "${XDG_CACHE_HOME:-$HOME/.cache}/finetune/tokenizers/tokenizer-llama3@3.7.2" --records 200' "$work"
  step "mvn -B -pl operator -am test -Pbench (benchmarks.md), 20 jobs" \
    mvn -B -ntp -q -pl operator -am test -Pbench -Dtest=ScaleBench -Dsurefire.failIfNoSpecifiedTests=false -Dbench.jobs=20
  step "bash bench/side-by-side/run.sh --train-samples 8 --repeats 1 (benchmarks.md)" \
    bash bench/side-by-side/run.sh --train-samples 8 --repeats 1 --results "$work/bench-results" --workdir "$work/bench"
  step "PackingBenchmark (benchmarks.md), 8 samples on a 1-layer model" bash -c '
    OMP_NUM_THREADS=1 java --enable-native-access=ALL-UNNAMED -Dai.djl.offline=true \
      -cp trainer-image/target/finetune-trainer-0.1.0-SNAPSHOT.jar dev.finetune.trainer.bench.PackingBenchmark \
      samples=8 minLength=16 maxLength=64 maxSeq=64 hidden=64 intermediate=128 layers=1 heads=4 kvHeads=2 repeats=1 \
      | grep -q "\"positionsSaved\":[0-9.]*,\"attentionRatio\":[0-9.]*,.*\"speedup\":[0-9]"'
  step "bash bench/packing/run.sh --sizes 40 (benchmarks.md)" bash -c '
    bash bench/packing/run.sh --sizes 40 --workdir "$0/packing" > "$0/packing.txt" &&
    grep -qF "{\"trainSamples\": 40, \"packing\": true, \"optimizerStepsPerEpoch\": " "$0/packing.txt" &&
    grep -qF "unset: off (dataset.packing unset, decided: packing saves " "$0/packing.txt"' "$work"
  # one host read per logging interval: the step's loss and gradient norm stay on the device until it
  step "tools/gpu-check/calls-per-step (benchmarks.md), 2 layers, a log every 2 steps" bash -c '
    tools/gpu-check/calls-per-step layers=2 vocab=512 log=2 steps=4 | grep -q "\"hostReadsPerStep\":0.5,"'

  echo "== the HF reference tools (parity.md)"
  step "bash tools/reference/interop.sh (parity.md)" bash tools/reference/interop.sh --workdir "$work/interop"
  step "bash tools/reference/generate.sh (parity.md), into a scratch directory" \
    bash tools/reference/generate.sh --out "$work/goldens"
  step "bash tools/reference/gguf.sh (models.md), into a scratch file, goldens unchanged" bash -c '
    bash tools/reference/gguf.sh --out "$0/smollm2.json" && python3 - "$0/smollm2.json" <<PY
import json, sys
new = json.load(open(sys.argv[1]))
old = json.load(open("trainer-image/src/test/resources/goldens/gguf/smollm2.json"))
for k in ("tokenization", "chat", "greedy", "weights_sha256"):
    assert new[k] == old[k], k
PY' "$work"
  step "python tools/reference/gguf_export_check.py (models.md), f32 export bit-identical" bash -c '
    "$0" export-gguf --model "$1/smollm2" --out "$1/smollm2-f32.gguf" --type f32 &&
    ~/.cache/finetune/refvenv/bin/python tools/reference/gguf_export_check.py --original "$(bash trainer-image/src/test/fetch-gguf.sh)" \
      --exported "$1/smollm2-f32.gguf" | grep -q "273/273 weights bit-identical"' "$finetune" "$work"
fi

echo "== run by other .ci/run steps"
covered "bash test.sh (README.md)" "README test command"
covered "bash quickstart.sh (README.md, trainer.md)" "README quickstart"
covered "bash test.sh -pl trainer-image -am -Pnccl ... (distributed.md)" "slow trainer suites and the NCCL bindings"
covered "bash tools/cuda-stack/check.sh (distributed.md)" "the CUDA image's software stack"
covered "tools/gpu-check/pack --jni ..., tools/gpu-check/run, cpu-check.sh (benchmarks.md)" "GPU bring-up kit on CPU"
covered "mvn ... verify -Psmollm2 (models.md), examples/smollm2 at the CI size (run.sh --small's runner)" "real model: SmolLM2 GGUF import parity"
covered "bash e2e/kind/kind.sh up | smoke | load | kubeconfig | down, e2e/kind/ci.sh (testing.md)" "Kind: bash e2e/kind/ci.sh"
covered "bash e2e/images/base.sh, operator/build-image.sh, e2e/trainer/build-image.sh (operator.md, testing.md)" "Kind: the images under test"
covered "kubectl apply -f crds/..., kubectl apply -k deploy/kustomize/base (README.md)" "Kind: the JUnit e2e suite (OperatorSmokeE2E; HelmChartE2E for deploy/helm)"
covered "kubectl apply -f examples/*.yaml (README.md)" "the CRD and examples suite on the API server (-Pe2e)"
covered "mvn -B -ntp verify -Pe2e -pl e2e -am -De2e.cluster=kind ... (testing.md)" "Kind: the JUnit e2e suite"
covered "bash hack/build-registry.sh, finetune init | push | pull, the hub and registry tests (storage.md)" "hub and registry"
covered "bash tools/llama-cpp/check.sh (models.md)" "llama.cpp loads our GGUF model and adapter"
covered "bash e2e/argocd/build.sh, argocd.sh up | down (testing.md, gitops.md)" "Argo CD's engine ...; ArgoCdE2E in the Kind suite"
covered "bash e2e/kind/faults.sh ... (reliability.md)" "node faults; the fault scenarios in the Kind suite"

echo
if [[ $failed -gt 0 ]]; then
  printf 'failed: %s\n' "${failures[@]}"
fi
echo "documented commands: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
