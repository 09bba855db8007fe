# Sourced: sets $llama_python to a Python with llama-cpp-python (tools/llama-cpp/requirements.txt), built from
# its source distribution on this machine (cmake + gcc compile the vendored llama.cpp: ~10 min cold on 2 cores)
# and cached under ${XDG_CACHE_HOME:-~/.cache}/finetune/llama-cpp/<version>, so later runs start at once.
llama_cpp_version="$(sed -n 's/^llama-cpp-python==//p' "$(dirname "${BASH_SOURCE[0]}")/requirements.txt")"
llama_venv="${FINETUNE_LLAMA_CPP_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/finetune/llama-cpp/$llama_cpp_version}"
if ! "$llama_venv/bin/python" -c 'import llama_cpp' 2>/dev/null; then
  echo "building llama-cpp-python $llama_cpp_version (llama.cpp from source) into $llama_venv" >&2
  rm -rf "$llama_venv"
  "${PYTHON:-python3}" -m venv "$llama_venv"
  "$llama_venv/bin/pip" install -q --disable-pip-version-check --upgrade pip >&2
  # CPU only, no OpenMP thread pool fighting the JVM's; portable code so the cache survives a CPU change
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_OPENMP=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" \
    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    "$llama_venv/bin/pip" install -q --disable-pip-version-check --no-binary llama-cpp-python \
    -r "$(dirname "${BASH_SOURCE[0]}")/requirements.txt" >&2
fi
llama_python="$llama_venv/bin/python"
