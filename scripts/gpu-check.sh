#!/usr/bin/env bash
# The GPU check: one command on a GPU host (a PyTorch install, no .NET needed) that runs s2d's GPU path and measures it.
#
#   scripts/gpu-check.sh [--device cuda|cpu] [--s2d DIR|ARCHIVE] [--torch DIR] [--torchsharp-src DIR] [--ort-cuda PARTS...]
#                        [--data-root DIR] [--out DIR] [--steps N] [--quick]
#
# Stages (each timed; one failing does not stop the others; the exit code is the number of failed stages):
#   doctor        s2d doctor: which libtorch (the host's, through S2D_LIBTORCH), CUDA, GPUs, ONNX Runtime providers;
#                 where TorchSharp's native library does not load against the host's libtorch (another version), it is
#                 rebuilt from --torchsharp-src with scripts/build-libtorchsharp.sh and the stage runs again
#   bench-search  ms per search step, every method, NAS-Bench-201 and DARTS space, paper supernets and batch
#   peer          the same NAS-Bench-201 RF-PCDARTS step in PyTorch (bench/nb201_step.py) and in s2d: the ratio
#   bench-train   training images/s: CIFAR network, ImageNet network at 224 px, NAS-Bench-201 network
#   train         a short training run on the device (Imagenette slice, 64 px; the Deploy chain's 64-px network),
#                 stopped after one epoch ...
#   resume-cpu    ... and finished on the CPU from the device's checkpoint
#   export        ONNX export with s2d's parity check
#   validate      top-1/top-5 with ONNX Runtime's CUDA provider (and CPU), or, where the provider cannot be brought
#                 here, with the host's own onnxruntime (python), if it has CUDA; fails where neither ran on CUDA
#   ort-cuda-provider  (on a GPU) fails where s2d's ONNX Runtime CUDA provider does not load, so the ORT stages after
#                 it measured the CPU provider only
#   bench-onnx    ONNX Runtime CUDA vs CPU vs TorchSharp images/s at batch 1/32/256
#   parity        largest logit differences: TorchSharp GPU vs CPU, ORT CPU vs TorchSharp, ORT CUDA vs CPU
#   serve         s2d serve with dynamic batching off and on, ONNX Runtime on CUDA (and on the CPU): requests/s and
#                 latency at concurrency 1, 8 and 32 (scripts/bench-serve.sh)
# Results: summary.md (every table), results.json (stage, status, seconds), gpu-check.log, doctor.json in --out
# (default: $OUT where set, else ./gpu-check-results). Test it on a machine without a GPU with --device cpu --quick.
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
device=cuda s2d="" torch="" tssrc="" data="" out="${OUT:-$PWD/gpu-check-results}" steps=10 quick=0 ortparts=()
die() { echo "gpu-check: error: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="${2:?}"; shift 2 ;;
    --s2d) s2d="${2:?}"; shift 2 ;;
    --torch) torch="${2:?}"; shift 2 ;;
    --torchsharp-src) tssrc="${2:?}"; shift 2 ;;
    --data-root) data="${2:?}"; shift 2 ;;
    --out) out="${2:?}"; shift 2 ;;
    --steps) steps="${2:?}"; shift 2 ;;
    --quick) quick=1; shift ;;
    --ort-cuda) shift; while [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; do ortparts+=("$1"); shift; done ;;
    -h|--help) sed -n 2,30p "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
case "$device" in cuda|cuda:*|cpu) ;; *) die "--device $device: expected cuda, cuda:N or cpu" ;; esac
PY="${PYTHON:-python3}"
mkdir -p "$out"; out="$(cd "$out" && pwd)"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
log="$out/gpu-check.log"; : > "$log"; : > "$out/summary.md"
say() { echo "gpu-check: $*" | tee -a "$log"; }

# --- s2d: a folder holding s2d, a bundle archive, or the bundle beside this script (artifacts/bundle) ---
if [ -z "$s2d" ]; then
  for c in "$here/s2d" "$here/artifacts/bundle/s2d-linux-x64.tar.xz" "$here/src/SearchToDeploy.Cli/bin/Release/net10.0/linux-x64"; do
    [ -e "$c" ] && { s2d="$c"; break; }
  done
fi
[ -n "$s2d" ] || die "no s2d found: give --s2d (a folder holding s2d, or the bundle s2d-linux-x64.tar.xz from dotnet cake --target=Bundle)"
if [ -f "$s2d" ]; then
  tar -C "$work" -xJf "$s2d" || die "--s2d $s2d: not a bundle archive (tar.xz holding s2d/)"
  s2d="$work/s2d"
fi
S2D="$s2d/s2d"; [ -x "$S2D" ] || die "--s2d $s2d: no s2d executable there"
[ -z "$tssrc" ] && [ -d "$s2d/torchsharp-src" ] && tssrc="$s2d/torchsharp-src"

# --- libtorch: a build without its own libtorch runs on the host's (S2D_LIBTORCH) ---
site=""
if [ ! -f "$s2d/libtorch_cpu.so" ]; then
  if [ -z "$torch" ]; then
    torch=$("$PY" -c 'import torch, os; print(os.path.dirname(torch.__file__))' 2>/dev/null) \
      || die "this s2d has no libtorch of its own and $PY cannot import torch: give --torch (a torch install folder holding lib/)"
  fi
  [ -d "$torch/lib" ] || die "--torch $torch: no lib/ folder there"
  export S2D_LIBTORCH="$torch/lib"
  site="$(dirname "$torch")"
fi
# pip's CUDA libraries (cuBLAS, cuDNN, ...) live beside torch; ONNX Runtime's CUDA provider needs them on the loader's path.
if [ -n "$site" ] && [ -d "$site/nvidia" ]; then
  extra=$(find "$site/nvidia" -maxdepth 3 -type d -name lib | sort | paste -sd:)
  [ -n "$extra" ] && export LD_LIBRARY_PATH="$extra${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
# ONNX Runtime's CUDA provider, brought in xz parts (dotnet cake --target=Bundle --ort-cuda) where it did not fit in one go.
if [ ${#ortparts[@]} -gt 0 ]; then
  cat "${ortparts[@]}" | xz -dc > "$s2d/libonnxruntime_providers_cuda.so.tmp" && mv "$s2d/libonnxruntime_providers_cuda.so.tmp" "$s2d/libonnxruntime_providers_cuda.so" \
    || say "warning: the --ort-cuda parts do not unpack; ONNX Runtime will run on the CPU"
fi

# --- data: Imagenette for the training stages (a slice is enough: scripts/data-slice.sh) ---
# The Imagenette folder of a data root: the 64-px one, else the official archive's (as s2d and data-slice.sh look).
imagenette() { local n; for n in imagenette-64 imagenette2-160 imagenette2-320 imagenette2; do [ -d "$1/$n/train" ] && { echo "$1/$n"; return 0; }; done; return 1; }
if [ -z "$data" ]; then
  for c in "$here/data-slice" "$here/../shared/data" "${S2D_DATA_ROOT:-}"; do
    [ -n "$c" ] && imagenette "$c" >/dev/null && { data="$c"; break; }
  done
fi
[ -n "$data" ] && imagenette "$data" >/dev/null || say "warning: no Imagenette under --data-root; the training stages will fail (make a slice with scripts/data-slice.sh)"

ep=cpu; [ "$device" = cpu ] || ep=cuda
if [ "$quick" = 1 ]; then steps=2; fi
results=()
stage() {
  local name="$1"; shift
  say "== $name: $*"
  local start; start=$(date +%s%N)
  "$@" >> "$log" 2>&1
  local rc=$?
  local ms=$(( ($(date +%s%N) - start) / 1000000 ))
  local secs="$((ms / 1000)).$(( (ms % 1000) / 100 ))"
  results+=("{\"stage\": \"$name\", \"exit_code\": $rc, \"seconds\": $secs}")
  (IFS=,; echo "[${results[*]}]") > "$out/results.json" # after every stage: a run cut short keeps what it measured
  say "== $name: $([ $rc = 0 ] && echo ok || echo "FAILED (exit code $rc)") in $secs s"
  return $rc
}
table() { [ -f "$1" ] && { echo; echo "### $2"; echo; cat "$1"; } >> "$out/summary.md"; }

# doctor, and the host-libtorch rebuild where TorchSharp's native library does not load
doctor() { "$S2D" doctor --json --data-root "${data:-.}" > "$out/doctor.json"; }
if ! stage doctor doctor; then
  if grep -q "does not load against this libtorch" "$log" && [ -n "$tssrc" ]; then
    # expected where the host's libtorch is another version: kept in results.json, not counted as a failure
    results[-1]="${results[-1]/\"doctor\"/\"doctor-before-rebuild\"}"
    stage build-libtorchsharp "$here/scripts/build-libtorchsharp.sh" --torch "$torch" --src "$tssrc" --out "$s2d" && stage doctor doctor
  fi
fi
[ "$device" = cpu ] || "$S2D" doctor --require-cuda > /dev/null 2>> "$log" || say "warning: TorchSharp cannot use CUDA here; the device stages will fail"
{ echo "# GPU check, $(date -u +%Y-%m-%dT%H:%MZ), --device $device"; echo; echo '```'; cat "$out/doctor.json" 2>/dev/null; echo '```'; } >> "$out/summary.md"

methods="darts pc-darts rf-darts rf-pcdarts gdas"; spaces="nas-bench-201 darts"
# --quick still takes a method that trains its filters in the DARTS space: its CPU depthwise 5x5 kernel is a custom
# autograd function, which a LibTorchSharp rebuilt for another libtorch may lack.
[ "$quick" = 1 ] && { methods="rf-pcdarts pc-darts"; spaces="nas-bench-201 darts"; }
stage bench-search "$S2D" bench search --device "$device" --synthetic --space $spaces --method $methods --steps "$steps" --output "$work/bench-search.md"
table "$work/bench-search.md" "Search steps"

# The peer: the same step in PyTorch, then in s2d, each with the same batch and step count, and the same kernels
# (on the CPU s2d pads convolutions and pools with matrix products; on CUDA it takes the natural calls).
kernels=(); [ "$device" = cpu ] && kernels=(--s2d-kernels)
peer() {
  PYTHONUNBUFFERED=1 "$PY" "$here/bench/nb201_step.py" --device "${device%%:*}" --batch 64 --steps "$((steps * 2))" --warmup 3 "${kernels[@]}" --json "$work/peer-pytorch.json" || return $?
  "$S2D" bench search --device "$device" --synthetic --space nas-bench-201 --method rf-pcdarts --steps "$((steps * 2))" --output "$work/peer-s2d.md" | tee "$work/peer-s2d.txt" || return $?
  "$PY" - "$work/peer-pytorch.json" "$work/peer-s2d.txt" > "$work/peer.md" <<'PYEOF'
import json, re, sys
py = json.load(open(sys.argv[1]))
m = re.search(r"nas-bench-201 rf-pcdarts: ([0-9.]+) ms/step", open(sys.argv[2]).read())
s2d = float(m.group(1))
print("| step | PyTorch ms | s2d (TorchSharp) ms | TorchSharp / PyTorch |")
print("|---|---:|---:|---:|")
print(f"| NAS-Bench-201 RF-PCDARTS, batch 64, first order | {py['step_ms']:.2f} | {s2d:.2f} | {s2d / py['step_ms']:.2f} |")
print()
n = py.get("parameters", {})
print(f"PyTorch {py.get('torch_version')} on {py.get('device_name')}, {'s2d' if py.get('s2d_kernels') else 'natural'} kernels; parameters: {n.get('trainable')} trainable, {n.get('frozen')} frozen, {n.get('architecture')} architecture")
PYEOF
}
stage peer peer
table "$work/peer.md" "TorchSharp vs PyTorch, the same search step"

ib=64; [ "$device" = cpu ] && ib=8
[ "$quick" = 1 ] && trainargs=(--network nb201 --channels 16 --layers 2 --batch-size 32) || trainargs=(--imagenet-batch "$ib")
stage bench-train "$S2D" bench train --device "$device" --steps "$steps" "${trainargs[@]}" --output "$work/bench-train.md"
table "$work/bench-train.md" "Training steps"

run="$work/train"
# The cpu preset's network for 64-px ImageNet images (C=16, 8 cells): the size the Deploy chain packages and serves.
stage train "$S2D" train --genotype darts-v2 --dataset imagenette --data-root "$data" --preset cpu --max-train-images 640 --epochs 2 --stop-after 1 --device "$device" --out "$run"
stage resume-cpu "$S2D" train --resume --out "$run" --data-root "$data" --device cpu
stage export "$S2D" export --run "$run" --out "$work/model.onnx" --data-root "$data"
validate() {
  local rc=0 why="ONNX Runtime's CUDA provider is not beside s2d (bring it with --ort-cuda)"
  if [ "$ep" = cpu ] || "$S2D" doctor | grep -q "^onnxruntime_cuda: usable"; then
    "$S2D" validate --model "$work/model.onnx" --dataset imagenette --data-root "$data" --ep "$ep" --report "$work/validate-$ep.json" || rc=$?
    why="s2d validate --ep $ep failed (exit code $rc)"
  fi
  if [ "$ep" != cpu ] && { [ $rc != 0 ] || [ ! -f "$work/validate-$ep.json" ]; }; then
    if "$PY" -c 'import onnxruntime as o, sys; sys.exit(0 if "CUDAExecutionProvider" in o.get_available_providers() else 1)' 2>/dev/null; then
      echo "$why; validating with the host's onnxruntime (python) instead"
      "$PY" "$here/bench/ort_check.py" "$work/model.onnx" --json "$work/validate-host-ort.json" || rc=$?
    else
      echo "$why and the host has no onnxruntime with CUDA: validating on the CPU provider only"
      { echo; echo "ONNX Runtime CUDA: **not validated** ($why; no python onnxruntime with CUDA on the host)."; } >> "$out/summary.md"
      rc=3 # the stage exists to validate on CUDA: a CPU-only validation is not a pass
    fi
  fi
  "$S2D" validate --model "$work/model.onnx" --dataset imagenette --data-root "$data" --ep cpu --report "$work/validate-cpu.json" || return $?
  return $rc
}
stage validate validate
{ echo; echo "### Validation (Imagenette slice, after 2 epochs of 640 images)"; echo; for f in "$work"/validate-*.json; do [ -f "$f" ] && { echo "$(basename "$f"):"; echo '```'; cat "$f"; echo '```'; }; done; } >> "$out/summary.md"
ort="cpu"; "$S2D" doctor | grep -q "^onnxruntime_cuda: usable" && ort="cpu cuda"
# On a GPU, the ORT stages below fall back to the CPU provider alone where s2d's CUDA provider does not load: this
# stage fails then, so results.json never reads all green without ONNX Runtime having run on CUDA.
ort_cuda() { "$S2D" doctor | grep "^onnxruntime"; [ "$ort" = "cpu cuda" ]; }
[ "$ep" = cpu ] || stage ort-cuda-provider ort_cuda
stage bench-onnx "$S2D" bench onnx --run "$run" --ep $ort --device "$device" --batch 1 32 256 --seconds "$([ "$quick" = 1 ] && echo 0.5 || echo 3)" --output "$work/bench-onnx.md"
table "$work/bench-onnx.md" "ONNX Runtime vs TorchSharp, evaluation"
stage parity "$S2D" bench parity --run "$run" --device "$device" --ep "$(echo $ort | awk '{print $NF}')" --output "$work/parity.md"
table "$work/parity.md" "Parity"

# Dynamic batching in s2d serve, off (--max-batch 1) and on (--max-batch 32), per ONNX Runtime provider.
serve() {
  local image e rc=0
  image=$(find "$(imagenette "$data")/val" -type f -name '*.JPEG' | sort | head -n 1)
  [ -n "$image" ] || { echo "no validation JPEG under $data's Imagenette val/"; return 2; }
  for e in $ort; do
    S2D_SERVE_ARGS="--ep $e" "$here/scripts/bench-serve.sh" "$S2D" "$work/model.onnx" "$image" "$work/serve-$e" 1 0 || rc=$?
  done
  "$PY" - "$work" "$(stat -c %s "$image")" $ort > "$work/serve.md" <<'PYEOF'
import re, sys
work, size, eps = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def rows(path):
    try: text = open(path).read()
    except OSError: return {}
    figures = re.findall(r"\| concurrency (\d+) \|[^|]*\| ([0-9.,]+) \| ([0-9.,]+) \| ([0-9.,]+) \|", text)  # N0: 1,234
    return {int(c): (float(rps.replace(",", "")), p50, p99) for c, rps, p50, p99 in figures}
print(f"The 64-px ImageNet network (DARTS_V2, C=16, 8 cells) after the check's short training, one {size:,}-byte 64-px JPEG per request; batching off: --max-batch 1, on: --max-batch 32.")
print()
print("| provider | concurrency | off, requests/s | on, requests/s | on / off | p50 / p99 ms off | p50 / p99 ms on |")
print("|---|---:|---:|---:|---:|---:|---:|")
for ep in eps:
    off, on = rows(f"{work}/serve-{ep}/off-1.md"), rows(f"{work}/serve-{ep}/on-1.md")
    for c in sorted(set(off) | set(on)):
        a, b = off.get(c), on.get(c)
        ratio = f"{b[0] / a[0]:.2f}" if a and b else "-"
        rps = lambda r: f"{r[0]:,.0f}" if r else "-"
        ms = lambda r: f"{r[1]} / {r[2]}" if r else "-"
        print(f"| {ep} | {c} | {rps(a)} | {rps(b)} | {ratio} | {ms(a)} | {ms(b)} |")
PYEOF
  return $rc
}
stage serve serve
table "$work/serve.md" "HTTP serving: dynamic batching off and on"

failed=0 passed=0
for r in "${results[@]}"; do case "$r" in *doctor-before-rebuild*) ;; *'"exit_code": 0,'*) passed=$((passed + 1)) ;; *) failed=$((failed + 1)) ;; esac; done
say "$passed stages passed, $failed failed; results in $out (summary.md, results.json, gpu-check.log, doctor.json)"
exit "$failed"
