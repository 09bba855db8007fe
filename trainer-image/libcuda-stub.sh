#!/bin/sh
# Writes OUT_DIR/libcuda.so.1, a stand-in for the NVIDIA driver's libcuda, so that DJL can load the CUDA
# libtorch on a machine without a driver: the image build (the Dockerfile's warm-up) and tools/cuda-stack.
#
#   libcuda-stub.sh TORCH_LIB_DIR OUT_DIR        (needs gcc and nm)
#
# Why: DJL loads every library of PYTORCH_LIBRARY_PATH with System.load (dlopen RTLD_NOW), including
# libcaffe2_nvrtc.so, which links libcuda.so.1. libcuda comes with the driver and is mounted into the
# container by the NVIDIA runtime only on a GPU node; without it the engine fails to load ("libcuda.so.1:
# cannot open shared object file"), even for CPU work. The stub defines exactly the driver functions the
# CUDA libtorch links, each returning CUDA_ERROR_STUB_LIBRARY (34) as NVIDIA's own stub does. It is for
# build and test machines only: it must never be on the library path of a GPU worker, where it would
# shadow the real driver.
set -eu
torch_lib="$1"
out="$2"
mkdir -p "$out"
: > "$out/libcuda-stub.c"
for lib in "$torch_lib"/*.so*; do
  if readelf -d "$lib" 2>/dev/null | grep -q 'NEEDED.*\[libcuda\.so\.1\]'; then
    nm -D --undefined-only "$lib" | awk '$2 ~ /^cu[A-Z]/ { print $2 }' >> "$out/symbols.txt"
  fi
done
if [ ! -s "$out/symbols.txt" ]; then
  echo "libcuda-stub: no library in $torch_lib links libcuda.so.1; no stub needed" >&2
  exit 1
fi
sort -u "$out/symbols.txt" | awk '{ print "int " $1 "(void) { return 34; }" }' > "$out/libcuda-stub.c"
rm -f "$out/symbols.txt"
gcc -shared -fPIC -nostdlib -Wl,-soname,libcuda.so.1 -o "$out/libcuda.so.1" "$out/libcuda-stub.c"
echo "libcuda-stub: $out/libcuda.so.1 ($(wc -l < "$out/libcuda-stub.c") driver functions)"
