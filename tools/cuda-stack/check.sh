#!/usr/bin/env bash
# Proves as much of the CUDA trainer image's software stack as a machine without a GPU can: DJL's cu128 JNI
# on the pip-installed CUDA libtorch 2.7.1, the trainer training on it, and the NCCL collective finding
# NVIDIA's libraries in the wheel layout beside it, all with the environment trainer-image/Dockerfile sets.
# The image itself cannot be built here (its base comes from a container registry); a venv with the same
# pip packages stands in for its site-packages (tools/cuda-stack/venv.sh: ~3 GB download, ~5 GB on disk, once).
#
#   bash tools/cuda-stack/check.sh
#
# Needs gcc and nm (binutils) for the stand-in libcuda.so.1 (trainer-image/libcuda-stub.sh), as the image
# build does: DJL cannot load the CUDA libtorch on a machine without the NVIDIA driver otherwise.
#
# Prints one PASS/FAIL line per check and exits 1 when any failed. FINETUNE_CUDA_STACK_KEEP=1 keeps the
# scratch directory (logs, outputs, LD_DEBUG traces). What it cannot check: docs/distributed.md, "The CUDA
# stack without a GPU".
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
source hack/java25.sh
here=tools/cuda-stack
started=$SECONDS

echo "== venv with torch 2.7.1 and its CUDA wheels"
source "$here/venv.sh"                                    # sets venv, site_packages
venv_seconds=$((SECONDS - started))
sp="$site_packages"
echo "site-packages: $sp (ready after ${venv_seconds} s)"

echo "== building the trainer"
build_started=$SECONDS
mvn -B -q -pl trainer-image -am package -DskipTests
build_seconds=$((SECONDS - build_started))
jar="$repo/trainer-image/target/finetune-trainer-0.1.0-SNAPSHOT.jar"
classpath="$jar:$repo/trainer-image/target/lib/*"

work="$(mktemp -d "${TMPDIR:-/tmp}/cuda-stack.XXXXXX")"
if [[ "${FINETUNE_CUDA_STACK_KEEP:-}" == 1 ]]; then
  echo "scratch: $work (kept)"
else
  trap 'rm -rf "$work"' EXIT
fi

failures=0
check() {   # check NAME CONDITION-COMMAND... : one PASS/FAIL line
  local name="$1"; shift
  if "$@"; then echo "PASS $name"; else echo "FAIL $name"; failures=$((failures + 1)); fi
}

# The image's ENV, read from the Dockerfile, with its site-packages mapped to the venv. The local JDK stands
# in for the image's /opt/java; a fresh DJL cache proves nothing is picked up from an earlier CPU run.
image_exports="$(python3 "$here/dockerfile_env.py" trainer-image/Dockerfile "$sp" env JAVA_HOME,PATH,DJL_CACHE_DIR)"
eval "$(sed 's/^export /image_/' <<<"$image_exports")"
for name in PYTORCH_LIBRARY_PATH PYTORCH_FLAVOR PYTORCH_VERSION DJL_OFFLINE JAVA_TOOL_OPTIONS; do
  var="image_$name"
  [[ -n "${!var:-}" ]] || { echo "cuda-stack: trainer-image/Dockerfile sets no ENV $name; this check runs the trainer with the image's settings" >&2; exit 1; }
done
image_env() {
  env -u FINETUNE_NCCL_LIBRARY -u FINETUNE_CUDART_LIBRARY -u LD_LIBRARY_PATH \
    PYTORCH_LIBRARY_PATH="$image_PYTORCH_LIBRARY_PATH" PYTORCH_FLAVOR="$image_PYTORCH_FLAVOR" \
    PYTORCH_VERSION="$image_PYTORCH_VERSION" DJL_OFFLINE="$image_DJL_OFFLINE" \
    JAVA_TOOL_OPTIONS="$image_JAVA_TOOL_OPTIONS" DJL_CACHE_DIR="$work/djl-cache" "$@"
}
for tool in gcc nm readelf; do
  command -v "$tool" >/dev/null || { echo "cuda-stack: $tool is needed for the stand-in libcuda.so.1 (Debian/Ubuntu: apt-get install gcc binutils)" >&2; exit 1; }
done
stub="$work/libcuda-stub"
sh trainer-image/libcuda-stub.sh "$sp/torch/lib" "$stub" >/dev/null
with_stub=(LD_LIBRARY_PATH="$stub")   # for a process that loads libtorch, as the Dockerfile's warm-up step
# the files a process initialised, from the dynamic loader's own trace (LD_DEBUG=libs), one per line
loaded_libraries() { sed -n 's/.*calling init: //p' "$@" | sort -u; }
only_under() {      # only_under DIR PATTERN FILE: every line of FILE matching PATTERN lies in DIR, and one does
  local matching; matching="$(grep -E "$2" "$3" || true)"
  [[ -n "$matching" ]] && ! grep -v -F "$1/" <<<"$matching" >/dev/null
}

echo "== d. what the Dockerfile assumes of its base image's layout"
while read -r required; do
  check "d. Dockerfile's build-time file exists in the pip layout: ${required#"$sp"/}" test -f "$required"
done < <(python3 "$here/dockerfile_env.py" trainer-image/Dockerfile "$sp" required-files)
jna_dir="$(sed -n 's/.*-Djna.library.path=\([^: ]*\).*/\1/p' <<<"$image_JAVA_TOOL_OPTIONS")"
check "d. jna.library.path's first directory holds libcudart.so.12 ($jna_dir)" test -f "$jna_dir/libcudart.so.12"
env -u LD_LIBRARY_PATH ldd "$sp/torch/lib/libtorch_cuda.so" > "$work/ldd-libtorch_cuda.txt"
check "d. libtorch_cuda.so resolves every library it needs through its own RPATH (no LD_LIBRARY_PATH)" \
  bash -c '! grep -q "not found" "$1"' _ "$work/ldd-libtorch_cuda.txt"
(cd "$work" && unzip -q -o "$repo/trainer-image/target/lib/pytorch-jni-"*.jar 'jnilib/linux-x86_64/cu128/libdjl_torch.so')
LD_LIBRARY_PATH="$sp/torch/lib" ldd -r "$work/jnilib/linux-x86_64/cu128/libdjl_torch.so" > "$work/ldd-jni.txt" 2>&1 || true
echo "   DJL's cu128 JNI: $(grep -c 'undefined symbol' "$work/ldd-jni.txt" || true) undefined symbols against this libtorch"
check "d. every symbol DJL's cu128 JNI needs is defined by this libtorch (ldd -r)" \
  bash -c '! grep -q -e "undefined symbol" -e "not found" "$1"' _ "$work/ldd-jni.txt"

echo "== a. DJL loads the CUDA libtorch from PYTORCH_LIBRARY_PATH"
image_env java -cp "$classpath" "$here/EngineProbe.java" > "$work/probe-nodriver.txt" 2>&1 || true
echo "   without libcuda.so.1: $(grep -m1 -o 'UnsatisfiedLinkError: .*' "$work/probe-nodriver.txt" || echo 'the engine loaded')"
image_env "${with_stub[@]}" java -cp "$classpath" "$here/EngineProbe.java" > "$work/probe.txt" 2> "$work/probe.err" || true
sed 's/^/   /' "$work/probe.txt"
check "a. engine PyTorch 2.7.1 loaded (with the stand-in libcuda.so.1)" grep -qx "engine: PyTorch 2.7.1" "$work/probe.txt"
check "a. the engine sees no GPU" grep -qx "gpu count: 0" "$work/probe.txt"
check "a. libtorch_cuda.so is mapped from PYTORCH_LIBRARY_PATH" \
  grep -qx "mapped: $sp/torch/lib/libtorch_cuda.so" "$work/probe.txt"
check "a. every libtorch*/libc10* mapped comes from PYTORCH_LIBRARY_PATH (none from DJL's CPU jar)" \
  only_under "$sp/torch/lib" '^mapped: .*/lib(torch|c10)[^/]*$' "$work/probe.txt"
check "a. DJL's JNI is the cu128 build" grep -qE '^mapped: .*cu128.*libdjl_torch\.so$' "$work/probe.txt"
check "a. libcudart is the wheel's, one copy" \
  test "$(grep -E '^mapped: .*libcudart' "$work/probe.txt" || true)" = "mapped: $sp/nvidia/cuda_runtime/lib/libcudart.so.12"
check "a. a CPU kernel of that libtorch computes ([[1,2],[3,4]] x [5,6] = 17, 39)" \
  grep -qx "cpu matmul: 17.0 39.0" "$work/probe.txt"

echo "== b. the quickstart trains on that libtorch as on the CPU jar's"
export OMP_NUM_THREADS=1   # as quickstart.sh: one libtorch thread, and the same reduction order in both runs
trainer-image/finetune quickstart-assets --models "$work/models" --data "$work/data" > "$work/assets.log"
quickstart() {   # quickstart OUTPUTS-DIR: finetune run examples/quickstart/finetunejob.yaml
  run_started=$SECONDS
  "$@" run examples/quickstart/finetunejob.yaml --resume none \
    --volume models="$work/models" --volume data="$work/data" --volume outputs="$outputs"
}
outputs="$work/out-cpu"
quickstart trainer-image/finetune > "$work/quickstart-cpu.log" 2>&1 || true
cpu_seconds=$((SECONDS - run_started))
outputs="$work/out-cuda"
quickstart image_env "${with_stub[@]}" LD_DEBUG=libs LD_DEBUG_OUTPUT="$work/ld-quickstart" java -jar "$jar" \
  > "$work/quickstart-cuda.log" 2>&1 || true
cuda_seconds=$((SECONDS - run_started))
loaded_libraries "$work"/ld-quickstart.* > "$work/quickstart-libs.txt"
check "b. the quickstart loaded libtorch_cuda.so from PYTORCH_LIBRARY_PATH" \
  grep -qx "$sp/torch/lib/libtorch_cuda.so" "$work/quickstart-libs.txt"
check "b. every libtorch*/libc10* the quickstart loaded comes from PYTORCH_LIBRARY_PATH" \
  only_under "$sp/torch/lib" '/lib(torch|c10)[^/]*$' "$work/quickstart-libs.txt"
python3 - "$work/out-cpu/runs/quickstart/progress.json" "$work/out-cuda/runs/quickstart/progress.json" \
  > "$work/losses.txt" <<'PY' || true
import json, sys
def losses(path):
    try:
        return [h["evalLoss"] for h in json.load(open(path))["history"]]
    except (OSError, KeyError, ValueError) as e:
        return "unreadable (%s)" % e
cpu, cuda = losses(sys.argv[1]), losses(sys.argv[2])
print("CPU jar libtorch eval losses:  %s" % (" ".join("%.6f" % x for x in cpu) if isinstance(cpu, list) else cpu))
print("CUDA libtorch eval losses:     %s" % (" ".join("%.6f" % x for x in cuda) if isinstance(cuda, list) else cuda))
if isinstance(cpu, list) and isinstance(cuda, list) and len(cpu) == len(cuda) == 4:
    print("max |difference|: %.3g" % max(abs(a - b) for a, b in zip(cpu, cuda)))
PY
sed 's/^/   /' "$work/losses.txt"
echo "   wall time: CPU jar ${cpu_seconds} s, CUDA libtorch ${cuda_seconds} s"
tolerance=1e-4   # both are CPU kernels of libtorch 2.7.1 builds; only vectorisation paths may differ
check "b. 4 epochs on each libtorch, eval losses within $tolerance of each other" \
  python3 -c 'import sys; d = sys.argv[1].split("max |difference|: "); sys.exit(0 if len(d) == 2 and float(d[1]) <= float(sys.argv[2]) else 1)' \
  "$(cat "$work/losses.txt")" "$tolerance"

echo "== c. a GPU gang member on this machine"
cat > "$work/gang.yaml" <<'YAML'
apiVersion: finetune.dev/v1alpha1
kind: FineTuneJob
metadata: {name: gpu-gang}
spec:
  model: {pvc: {claimName: models, path: quickstart-llama}}
  dataset: {pvc: {claimName: data, path: quickstart/train.jsonl}, format: alpaca}
  training: {epochs: 1, precision: fp32}
  resources: {gpus: 1, workers: 2}
  output: {pvc: {claimName: outputs, path: run}}
YAML
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
java -cp "$classpath" "$here/GangConfig.java" "$work/gang.yaml" "$work/models" "$work/data" "$work/out-gang" \
  "$port" "$work/trainer-config.json"
# as the operator starts a worker: the image's entrypoint with no arguments, FINETUNE_CONFIG, RANK, LOCAL_RANK
gang_rc=0
image_env FINETUNE_CONFIG="$work/trainer-config.json" RANK=0 LOCAL_RANK=0 LD_DEBUG=libs \
  LD_DEBUG_OUTPUT="$work/ld-gang" timeout 120 java -jar "$jar" > "$work/gang.log" 2>&1 || gang_rc=$?
loaded_libraries "$work"/ld-gang.* > "$work/gang-libs.txt"
failure="$(python3 -c 'import json, sys; f = json.load(open(sys.argv[1])).get("failure") or {}; print(f.get("reason"), f.get("message"), sep=": ")' \
  "$work/out-gang/run/progress.json" 2>/dev/null || echo "no progress.json")"
echo "   exit code $gang_rc; progress.json failure: $failure"
check "c. the worker exits 78 (BAD_CONFIG), not a crash or a wait for peers" test "$gang_rc" = 78
check "c. its failure is BAD_CONFIG: CUDA is not usable" \
  grep -q "^BAD_CONFIG: rank 0: this machine cannot run a GPU worker: CUDA is not usable on this machine" <<<"$failure"
check "c. libnccl.so.2 was found in the wheel layout beside PYTORCH_LIBRARY_PATH (no override)" \
  grep -qx "$sp/nvidia/nccl/lib/libnccl.so.2" "$work/gang-libs.txt"
check "c. libcudart.so.12 likewise, one copy" \
  test "$(grep libcudart "$work/gang-libs.txt" || true)" = "$sp/nvidia/cuda_runtime/lib/libcudart.so.12"
# The worker stops before it loads the model, so libtorch is not in that process. The probe loads the engine
# first and then sets up the same gang member in its JVM: the CUDA libtorch, libnccl and libcudart together.
image_env "${with_stub[@]}" java -cp "$classpath" "$here/EngineProbe.java" --gang "$port" > "$work/probe-gang.txt" 2> "$work/probe-gang.err" || true
grep '^gang:' "$work/probe-gang.txt" | sed 's/^/   /' || true
check "c. with the CUDA libtorch loaded, the gang setup fails with 'CUDA is not usable' (an exception, no abort)" \
  grep -q "^gang: GpuEnvironmentException: CUDA is not usable on this machine" "$work/probe-gang.txt"
check "c. ... and libtorch_cuda, libnccl and one libcudart (the wheel's) share that process" bash -c '
  grep -qx "mapped: $1/torch/lib/libtorch_cuda.so" "$2" && grep -qx "mapped: $1/nvidia/nccl/lib/libnccl.so.2" "$2" &&
  test "$(grep -E "^mapped: .*libcudart" "$2")" = "mapped: $1/nvidia/cuda_runtime/lib/libcudart.so.12"' _ "$sp" "$work/probe-gang.txt"

echo "== d. the Dockerfile's warm-up: DJL's cache filled as root, then read as uid 1000"
# Workers run as uid 1000 on a read-only root filesystem; DJL unpacks its JNI into directories of mode 0700,
# so the Dockerfile fills the cache as root, opens it (chmod a+rX) and loads the engine again as uid 1000.
# Same steps here on a fresh cache. uid 1000 must be able to read the venv (not so under a private home).
if command -v setpriv >/dev/null && [[ "$(id -u)" == 0 ]] \
   && setpriv --reuid=1000 --regid=1000 --clear-groups test -r "$sp/torch/lib/libtorch_cuda.so" -a -r "$jar"; then
  warm_cache="$work/warm-djl-cache"
  warm() { image_env "${with_stub[@]}" DJL_CACHE_DIR="$warm_cache" "$@" java -jar "$jar" generate \
    --model "$work/models/quickstart-llama" --prompt "1 2 3" --max-new-tokens 1; }
  warm_rc=0
  warm > "$work/warm-root.log" 2>&1 || warm_rc=$?
  chmod -R a+rX "$warm_cache" "$work/models" "$stub"
  chmod a+rx "$work"
  warm HOME=/tmp setpriv --reuid=1000 --regid=1000 --clear-groups > "$work/warm-uid1000.log" 2>&1 || warm_rc=$?
  check "d. generate as root then as uid 1000 on the root-owned DJL cache (exit $warm_rc)" test "$warm_rc" = 0
  check "d. the cache holds DJL's cu128 JNI (DJL_CACHE_DIR/pytorch/2.7.1-cu128-linux-x86_64)" \
    test -f "$warm_cache/pytorch/2.7.1-cu128-linux-x86_64/0.35.1-libdjl_torch.so"
else
  echo "NOT CHECKED d. uid 1000 run: needs root, setpriv and a venv uid 1000 can read (FINETUNE_CUDA_STACK_DIR=/var/tmp/... does)"
fi

echo "== figures"
echo "venv: ${venv_seconds} s to be ready, $(du -sh "$venv" | cut -f1) on disk ($venv)"
echo "build: ${build_seconds} s; checks: $((SECONDS - started - venv_seconds - build_seconds)) s; total: $((SECONDS - started)) s"
if ((failures > 0)); then
  echo "cuda-stack: $failures check(s) FAILED (logs: rerun with FINETUNE_CUDA_STACK_KEEP=1)"
  exit 1
fi
echo "cuda-stack: all checks passed"
