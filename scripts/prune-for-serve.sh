#!/usr/bin/env bash
# Removes from a published s2d folder what `s2d serve` never loads: libtorch and TorchSharp's native layer (serving runs
# on ONNX Runtime only; torch loads lazily, on first use), and, unless --keep-cuda, ONNX Runtime's CUDA and TensorRT
# providers and the Windows copies of the natives. Leaves about 55 MB of the 1 GB.
#
#   scripts/prune-for-serve.sh <publish folder> [--keep-cuda]
set -euo pipefail
DIR=${1:?usage: scripts/prune-for-serve.sh <publish folder> [--keep-cuda]}; KEEP_CUDA=${2:-}
[ -x "$DIR/s2d" ] || { echo "error: $DIR/s2d not found: expected the output of dotnet publish src/SearchToDeploy.Cli" >&2; exit 2; }
cd "$DIR"
rm -f libtorch*.so* libc10*.so* libLibTorchSharp.so libgomp*.so* libnnapi_backend.so libbackend_with_compiler.so \
      libjitbackend_test.so libshm.so libtorchbind_test.so libaoti_custom_ops.so *.dll.so onnxruntime*.dll
[ "$KEEP_CUDA" = --keep-cuda ] || rm -f libonnxruntime_providers_cuda.so libonnxruntime_providers_tensorrt.so
du -sh . | cut -f1
