#!/usr/bin/env bash
# Builds TorchSharp's native library (libLibTorchSharp.so) against the libtorch of a host's PyTorch install (or a
# LibTorch archive), for an s2d built with -p:S2DTorch=host whose prebuilt library does not load against that libtorch
# (s2d says so: another libtorch version than the one TorchSharp was compiled for).
#
#   scripts/build-libtorchsharp.sh --torch DIR --src DIR --out DIR [--jobs N]
#
#   --torch  the torch install folder holding include/ and lib/ (default: python3's torch package)
#   --src    TorchSharp's sources of the version s2d uses (a checkout, or a bundle's torchsharp-src): src/Native
#   --out    where to put libLibTorchSharp.so: the s2d folder (the old one is kept as libLibTorchSharp.so.orig)
# Needs a C++17 compiler; with CMake it builds as TorchSharp does (for a CUDA libtorch, CMake's Torch config also
# wants the CUDA toolkit), else it compiles the sources directly against torch/include and torch/lib.
set -euo pipefail
torch="" src="" out="" jobs=$(nproc)
die() { echo "build-libtorchsharp: error: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --torch) torch="${2:?--torch needs a folder}"; shift 2 ;;
    --src) src="${2:?--src needs a folder}"; shift 2 ;;
    --out) out="${2:?--out needs a folder}"; shift 2 ;;
    --jobs) jobs="${2:?--jobs needs a number}"; shift 2 ;;
    -h|--help) sed -n 2,13p "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
if [ -z "$torch" ]; then
  torch=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))' 2>/dev/null) \
    || die "--torch not given and python3 cannot import torch; give the torch install folder (holding include/ and lib/)"
fi
[ -n "$src" ] || die "--src: give TorchSharp's sources (a checkout of the version s2d uses, holding src/Native)"
[ -n "$out" ] || die "--out: give the s2d folder to put libLibTorchSharp.so into"
[ -d "$torch/include/torch" ] && [ -f "$torch/lib/libtorch.so" ] || die "--torch $torch: no include/torch and lib/libtorch.so there (expected a PyTorch install's torch folder or an unpacked LibTorch archive)"
[ -f "$src/src/Native/LibTorchSharp/CMakeLists.txt" ] || die "--src $src: no src/Native/LibTorchSharp/CMakeLists.txt there (expected TorchSharp's sources)"
[ -d "$out" ] || die "--out $out: no such folder"

# The sources' TorchSharp version must be the one s2d was built with (the managed side calls its exports).
props="$src/build/BranchInfo.props"; [ -f "$props" ] || props="$src/BranchInfo.props"
ver() { sed -n "s/.*<$1Version>\([^<]*\)<\/$1Version>.*/\1/p" "$props" | head -1; }
have=""; [ -f "$props" ] && have="$(ver Major).$(ver Minor).$(ver Patch)"
want=$(grep -ho '"TorchSharp/[0-9.]*"' "$out"/*.deps.json 2>/dev/null | head -1 | tr -d '"' | cut -d/ -f2 || true)
if [ -n "$have" ] && [ -n "$want" ] && [ "$have" != "$want" ]; then
  die "--src $src holds TorchSharp $have but the s2d in $out uses TorchSharp $want: check out TorchSharp $want's sources"
fi
echo "TorchSharp sources: ${have:-version unknown}; s2d uses TorchSharp ${want:-(unknown)}"

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cp -r "$src/src/Native" "$work/Native"
# TorchSharp builds with -Werror against the libtorch it pins; a newer libtorch's headers may warn: keep the warnings, not the failure.
sed -i 's/add_definitions(-Werror)/add_definitions(-Wno-error)/' "$work/Native/CMakeLists.txt"
# TorchSharp compiles as C++17; newer libtorch headers stop with "C++20 or later compatible compiler is required".
std=17
grep -qs '__cplusplus < 202002L' "$torch/include/ATen/ATen.h" && std=20
sed -i "s/c++17/c++$std/; s/CXX_STANDARD 1[47]/CXX_STANDARD $std/" "$work/Native/LibTorchSharp/CMakeLists.txt"
echo 'static char sccsid[] __attribute__((used)) = "@(#)LibTorchSharp built by SearchToDeploy against a host libtorch";' > "$work/version.c"
tver=$(sed -n "s/^__version__ *= *['\"]\([^'\"]*\)['\"].*/\1/p" "$torch/version.py" 2>/dev/null | head -1)
[ -n "$tver" ] || tver=$(cat "$torch/build-version" 2>/dev/null || true)
echo "libtorch: $torch, ${tver:-version unknown}, C++$std"
start=$(date +%s)
cxx="${CXX:-g++}"
abi=$(python3 -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))' 2>/dev/null || echo 1)
flags=(-std=c++$std -O2 -fPIC -fvisibility=hidden -D_GLIBCXX_USE_CXX11_ABI="$abi" -D__LINUX__ -D_NO_ASYNCRTIMP -D_NO_PPLXIMP
       -Wno-unused-local-typedef -I"$work/Native" -I"$torch/include" -I"$torch/include/torch/csrc/api/include")
# TorchSharp's sources are written for one libtorch; against another, some functions no longer compile (e.g. named tensors
# and custom autograd functions against libtorch 2.14). Those get bodies that raise "not available in this build" when
# called, and the list goes beside the library, for s2d doctor to show.
: > "$work/stubbed.txt"
if command -v python3 > /dev/null && command -v "$cxx" > /dev/null; then
  python3 "$(dirname "$0")/stub-noncompiling.py" --dir "$work/Native/LibTorchSharp" --report "$work/stubbed.txt" --jobs "$jobs" \
    --note "TorchSharp ${have:-?}'s code for it does not compile against libtorch ${tver:-?}" -- "$cxx" "${flags[@]}" \
    || die "TorchSharp's sources do not compile against this libtorch, and what fails cannot be stubbed (errors above)"
fi
# TorchSharp's own CMake build first. Its Torch config wants the CUDA toolkit for a CUDA libtorch; where it does not
# configure or build, compile the sources directly: LibTorchSharp uses only libtorch's CPU headers (CUDA is reached through
# libtorch's dispatch), so the compiler, torch/include and torch/lib are enough.
lib=""
if command -v cmake > /dev/null && [ -f "$torch/share/cmake/Torch/TorchConfig.cmake" ] && cmake -S "$work/Native" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DLIBTORCH_PATH="$torch/share/cmake/Torch" \
     -DCMAKE_PREFIX_PATH="$torch" -DVERSION_FILE_PATH="$work/version.c" > "$work/cmake.log" 2>&1; then
  if cmake --build "$work/build" -j "$jobs" > "$work/build.log" 2>&1; then
    lib=$(find "$work/build" -name libLibTorchSharp.so | head -1)
  else
    grep -m 10 -B2 -A5 "error" "$work/build.log" >&2 || tail -20 "$work/build.log" >&2
    echo "the CMake build failed (errors above); compiling directly"
  fi
else
  echo "no CMake build (CMake or the Torch config missing, or it did not configure: $(tail -3 "$work/cmake.log" 2>/dev/null | tr '\n' ' ')); compiling directly"
fi
if [ -z "$lib" ]; then
  command -v "$cxx" > /dev/null || die "neither CMake nor $cxx can build here"
  mkdir -p "$work/obj"
  printf '%s\n' "$work"/Native/LibTorchSharp/*.cpp | xargs -P "$jobs" -I{} sh -c '"$0" "$@" -c "{}" -o "'"$work"'/obj/$(basename "{}").o" || exit 255' "$cxx" "${flags[@]}" \
    2> "$work/build.log" || { grep -m 20 -A5 "error" "$work/build.log" >&2; die "compiling LibTorchSharp failed (errors above)"; }
  gcc -O2 -fPIC -c "$work/Native/LibTorchSharp/crc32c.c" -o "$work/obj/crc32c.o" && gcc -fPIC -c "$work/version.c" -o "$work/obj/version.o" || die "compiling crc32c.c failed"
  "$cxx" -shared -o "$work/libLibTorchSharp.so" "$work"/obj/*.o -Wl,-Bsymbolic -Wl,-Bsymbolic-functions -L"$torch/lib" -ltorch -ltorch_cpu -lc10 \
    -Wl,-rpath,'$ORIGIN' 2>> "$work/build.log" || { tail -20 "$work/build.log" >&2; die "linking LibTorchSharp failed (errors above)"; }
  lib="$work/libLibTorchSharp.so"
fi
[ -n "$lib" ] || die "the build wrote no libLibTorchSharp.so"
[ -f "$out/libLibTorchSharp.so" ] && [ ! -f "$out/libLibTorchSharp.so.orig" ] && mv "$out/libLibTorchSharp.so" "$out/libLibTorchSharp.so.orig"
cp "$lib" "$out/libLibTorchSharp.so.tmp" && mv "$out/libLibTorchSharp.so.tmp" "$out/libLibTorchSharp.so"
# s2d compares this with the host's libtorch version before it loads anything (a library built for another version crashes).
echo "${tver:-unknown}" > "$out/libLibTorchSharp.so.built-for"
if [ -s "$work/stubbed.txt" ]; then cp "$work/stubbed.txt" "$out/libLibTorchSharp.so.stubbed"; else rm -f "$out/libLibTorchSharp.so.stubbed"; fi
echo "built $out/libLibTorchSharp.so in $(( $(date +%s) - start )) s against $torch (${tver:-version unknown}); $(grep -c . "$work/stubbed.txt" || true) function(s) stubbed"
