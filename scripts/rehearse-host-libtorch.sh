#!/usr/bin/env bash
# Rehearses the GPU check's host-libtorch path on a machine without a GPU: a Debian root made with debootstrap, holding
# Debian's PyTorch (another libtorch version than the one TorchSharp's library is compiled for, as on the GPU host),
# with the bundle, the data slice, scripts/ and bench/ copied in; then scripts/gpu-check.sh --device cpu --quick runs
# in it as the GPU host would run it: the version check stops doctor, LibTorchSharp is rebuilt, and every stage runs.
#
#   scripts/rehearse-host-libtorch.sh --bundle FILE --data-slice DIR [--ort-cuda PARTS...] [--root DIR] [--suite NAME] [--out DIR]
#
#   --bundle      s2d-linux-x64.tar.xz from: dotnet cake --target=Bundle --torchsharp-src=<TorchSharp sources>
#   --data-slice  from scripts/data-slice.sh
#   --ort-cuda    ONNX Runtime's CUDA provider in parts (dotnet cake --target=Bundle --ort-cuda): unpacked as on the
#                 GPU host; without a GPU it cannot load, and the check says so and runs ONNX Runtime on the CPU
#   --root        the Debian root (default /var/tmp/s2d-rehearsal-root; made on the first run, reused after)
#   --suite       the Debian suite whose PyTorch to take (default sid: PyTorch 2.14 in December 2026)
#   --out         where the check's results go (default ./rehearsal-results)
# Needs root and debootstrap (apt-get install debootstrap); the first run makes a Debian root of 2-3 GB.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bundle="" slice="" ortparts=() root=/var/tmp/s2d-rehearsal-root suite=sid out="$PWD/rehearsal-results"
die() { echo "rehearse-host-libtorch: error: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) bundle="${2:?--bundle needs a file}"; shift 2 ;;
    --data-slice) slice="${2:?--data-slice needs a folder}"; shift 2 ;;
    --ort-cuda) shift; while [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; do ortparts+=("$1"); shift; done ;;
    --root) root="${2:?--root needs a folder}"; shift 2 ;;
    --suite) suite="${2:?--suite needs a name}"; shift 2 ;;
    --out) out="${2:?--out needs a folder}"; shift 2 ;;
    -h|--help) sed -n 2,17p "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[ -f "$bundle" ] || die "--bundle '$bundle': no such file (dotnet cake --target=Bundle --torchsharp-src=<TorchSharp sources>)"
tar -tJf "$bundle" s2d/torchsharp-src > /dev/null 2>&1 || die "--bundle $bundle: no torchsharp-src in it; build it with --torchsharp-src, or LibTorchSharp cannot be rebuilt"
[ -d "$slice/imagenette-64/train" ] || die "--data-slice '$slice': no imagenette-64/train there (scripts/data-slice.sh)"
for p in "${ortparts[@]}"; do [ -f "$p" ] || die "--ort-cuda '$p': no such file"; done
[ "$(id -u)" = 0 ] || die "needs root (debootstrap and chroot)"

if ! [ -x "$root/usr/bin/python3" ] || ! chroot "$root" python3 -c 'import torch' > /dev/null 2>&1; then
  command -v debootstrap > /dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
  echo "rehearse-host-libtorch: making a Debian $suite root with its PyTorch in $root (2-3 GB, a few minutes)"
  debootstrap --variant=minbase --include=python3-torch,libtorch-dev,g++,cmake,make,xz-utils,procps "$suite" "$root" > "$root.debootstrap.log" 2>&1 \
    || die "debootstrap failed; see $root.debootstrap.log"
fi
echo "rehearse-host-libtorch: PyTorch $(chroot "$root" python3 -c 'import torch; print(torch.__version__)' 2>/dev/null | tail -1) in $root"

mounted=()
cleanup() { for m in "${mounted[@]}"; do umount "$m" 2> /dev/null || true; done; }
trap cleanup EXIT
for d in proc sys dev; do
  mountpoint -q "$root/$d" || { mount --bind "/$d" "$root/$d" && mounted+=("$root/$d"); }
done
work="$root/rehearsal"
rm -rf "$work" && mkdir -p "$work/repo"
cp "$bundle" "$work/s2d-linux-x64.tar.xz"
cp -r "$slice" "$work/data-slice"
cp -r "$here/scripts" "$here/bench" "$work/repo/"
ort=""
if [ ${#ortparts[@]} -gt 0 ]; then
  mkdir -p "$work/ort-cuda" && cp "${ortparts[@]}" "$work/ort-cuda/"
  ort="--ort-cuda $(for p in "${ortparts[@]}"; do printf '/rehearsal/ort-cuda/%s ' "$(basename "$p")"; done)"
fi
set +e
chroot "$root" bash -c "cd /rehearsal/repo && scripts/gpu-check.sh --device cpu --quick --s2d /rehearsal/s2d-linux-x64.tar.xz --data-root /rehearsal/data-slice $ort --out /rehearsal/results"
rc=$?
set -e
mkdir -p "$out" && cp -r "$work/results/." "$out/"
echo "rehearse-host-libtorch: gpu-check exit code $rc; results in $out"
exit "$rc"
