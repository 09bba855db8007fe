#!/usr/bin/env bash
# Keeps the GPU bring-up kit from rotting on a machine without a GPU (.ci/run): packs the bundle with the stock
# cu128 JNI of DJL's pytorch-jni jar, runs it against the torch 2.7.1 CUDA venv of tools/cuda-stack (the same
# JNI/libtorch pairing as the trainer's CUDA image) with the HF reference venv for the HF side, and asserts the
# result: no check failed, the CUDA-only checks are skipped for want of a GPU, everything else passed,
# including the miniature side-by-side.
#
#   bash tools/gpu-check/cpu-check.sh [OUT_DIR]
#
# Needs the venvs of tools/cuda-stack/venv.sh (FINETUNE_CUDA_STACK_DIR) and tools/reference (made when
# missing), gcc, nm and readelf for the stand-in libcuda.so.1.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
source tools/reference/lib.sh                       # $venv: the HF reference venv; selects a JDK 25+
reference_venv tools/reference/requirements.txt
hf_python="$venv/bin/python"
source tools/cuda-stack/venv.sh                     # now $venv is the torch 2.7.1 CUDA venv
torch_python="$venv/bin/python"
out="${1:-$(mktemp -d "${TMPDIR:-/tmp}/gpu-check-out.XXXXXX")}"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/gpu-check-jni.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

mvn -B -ntp -q -pl trainer-image -am package -DskipTests
unzip -q -o -d "$scratch" trainer-image/target/lib/pytorch-jni-*.jar 'jnilib/linux-x86_64/cu128/libdjl_torch.so'
bash tools/gpu-check/pack --jni "$scratch/jnilib/linux-x86_64/cu128/libdjl_torch.so"
export OMP_NUM_THREADS=1
rc=0
bash tools/gpu-check/run "$out" --python "$torch_python" --hf-python "$hf_python" || rc=$?

python3 - "$out/gpu-check.json" "$rc" <<'PY'
import json, sys
result, rc = json.load(open(sys.argv[1])), int(sys.argv[2])
checks = {c["name"]: c for c in result["checks"]}
problems = [f"run exited {rc}"] if rc else []
cuda_only = ["djl: CUDA available to DJL and libcudart", "djl: bf16 matmul on CUDA",
             "djl: device pointer of a CUDA tensor (cudaMemcpy from it)",
             "nccl: one-rank in-place all-reduce on device memory, cudaStreamQuery, async error",
             "nccl: watchdog aborts an all-reduce past the collective timeout"]
for name in cuda_only:
    c = checks.get(name)
    if c is None or c["status"] != "skipped" or not c["reason"].startswith("skipped: no GPU"):
        problems.append(f"CUDA-only check {name!r} should be skipped for want of a GPU: {c}")
for name, c in checks.items():
    if name not in cuda_only and c["status"] != "pass":
        problems.append(f"{name}: {c['status']} {c.get('error') or c.get('reason')}")
expected_passes = 8   # 6 Java checks on the CPU + the miniature side-by-side at 2 sequence lengths
if result["summary"]["pass"] != expected_passes:
    problems.append(f"{result['summary']['pass']} checks passed, expected {expected_passes}")
if problems:
    print("gpu-check on CPU: FAILED\n  " + "\n  ".join(problems))
    sys.exit(1)
print(f"gpu-check on CPU: {result['summary']['pass']} passed, {result['summary']['skipped']} skipped (no GPU), 0 failed")
PY
