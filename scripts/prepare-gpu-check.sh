#!/usr/bin/env bash
# Prepares everything the GPU check carries to a GPU host, in the repository: the bundle with TorchSharp's native
# sources (so that LibTorchSharp can be rebuilt there against the host's libtorch), ONNX Runtime's CUDA provider with
# the kernels of the host's GPU architecture only, and the Imagenette data slice; then prints their sizes and the
# two device calls that run the check (docs/gpu.md).
#
#   scripts/prepare-gpu-check.sh --torchsharp DIR [--data-root DIR] [--cuda-arch 90]
#
#   --torchsharp  a TorchSharp checkout, or a bare git repository (a mirror), of the version s2d uses
#   --data-root   the datasets (default: $S2D_DATA_ROOT, else ../shared/data)
#   --cuda-arch   the SM architectures whose kernels the CUDA provider keeps (default 90: H100, H200; all: every one)
# Writes artifacts/bundle/s2d-linux-x64.tar.xz, artifacts/ort-cuda/ort-cuda.xz.part00 (...) and artifacts/data-slice.
set -euo pipefail
cd "$(dirname "$0")/.."
ts="" data="${S2D_DATA_ROOT:-../shared/data}" arch=90
die() { echo "prepare-gpu-check: error: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --torchsharp) ts="${2:?--torchsharp needs a folder}"; shift 2 ;;
    --data-root) data="${2:?--data-root needs a folder}"; shift 2 ;;
    --cuda-arch) arch="${2:?--cuda-arch needs an architecture, e.g. 90}"; shift 2 ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[ -n "$ts" ] || die "--torchsharp: give a TorchSharp checkout or mirror of the version s2d uses"
{ [ -d "$data/imagenette-64/train" ] || ls -d "$data"/imagenette2*/train >/dev/null 2>&1; } || die "--data-root $data: no Imagenette there (imagenette-64/ or the official imagenette2-160/, -320/ or imagenette2/)"
src="$(mktemp -d)"; trap 'rm -rf "$src"' EXIT
if [ -d "$ts/src/Native/LibTorchSharp" ]; then
  mkdir -p "$src/build" && cp -r "$ts/src" "$src/" && cp "$ts/build/BranchInfo.props" "$src/build/"
elif git --git-dir="$ts" rev-parse --verify -q HEAD > /dev/null; then
  git --git-dir="$ts" archive HEAD src/Native build/BranchInfo.props | tar -x -C "$src"
else
  die "--torchsharp $ts: neither a checkout (src/Native/LibTorchSharp) nor a git repository"
fi
# The sources' TorchSharp version, before any tool is restored or anything built (the Bundle target checks it again).
ver() { sed -n "s/.*<$1Version>\([^<]*\)<\/$1Version>.*/\1/p" "$src/build/BranchInfo.props" | head -1; }
have="$(ver Major).$(ver Minor).$(ver Patch)"
want=$(sed -n 's/.*<S2DTorchSharpVersion>\([^<]*\)<.*/\1/p' Directory.Packages.props | head -1)
[ "$have" = "$want" ] || die "--torchsharp $ts holds TorchSharp $have; s2d uses $want: check out TorchSharp $want's sources"
dotnet tool restore > /dev/null
dotnet cake --target=Bundle --torchsharp-src="$src" --ort-cuda --cuda-arch="$arch" || die "no bundle built from --torchsharp $ts (see above)"
rm -rf artifacts/data-slice
scripts/data-slice.sh "$data" artifacts/data-slice
mib() { echo $(( $(du -cb "$@" | tail -1 | cut -f1) / 1048576 )); }
parts=(artifacts/ort-cuda/ort-cuda.xz.part*)
echo "prepare-gpu-check: TorchSharp sources bundled; bundle and slice $(mib artifacts/bundle/s2d-linux-x64.tar.xz artifacts/data-slice) MiB," \
  "CUDA provider (sm_$arch) $(mib "${parts[@]}") MiB in ${#parts[@]} part(s); a device call carries 64 MiB"
echo "On the GPU host, back to back while it stays warm (each part in a call of its own; they stay there between calls):"
probe="nvidia-smi -L; command -v g++ cmake xz; python3 -c 'import torch; print(torch.__version__, torch.version.cuda)'; python3 -c 'import onnxruntime as o; print(o.__version__, o.get_available_providers())'"
for p in "${parts[@]}"; do echo "  carry $p:  ls -l $p; $probe"; probe=true; done
echo "  carry artifacts/bundle and artifacts/data-slice:"
echo "  timeout 540 scripts/gpu-check.sh --s2d artifacts/bundle/s2d-linux-x64.tar.xz --data-root artifacts/data-slice --ort-cuda ${parts[*]} --out \$OUT"
