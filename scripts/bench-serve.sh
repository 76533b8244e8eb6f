#!/usr/bin/env bash
# The HTTP serving figures of docs/benchmarks.md: one model served with dynamic batching off (--max-batch 1) and on
# (--max-batch 32), taking turns, each measured by `s2d bench serve` at concurrency 1, 8 and 32; then a
# soak of mixed requests against the batching server with its memory (soak requests 0: none).
#
#   scripts/bench-serve.sh <s2d> <model.onnx> <image.jpg> <output folder> [rounds] [soak requests]
#
# S2D_SERVE_ARGS adds options to every server (e.g. "--ep cuda"); S2D_SERVE_PORT is its port (5099).
set -euo pipefail
S2D=$1; MODEL=$2; IMAGE=$3; OUT=$4; ROUNDS=${5:-2}; SOAK=${6:-10000}
mkdir -p "$OUT"
PORT=${S2D_SERVE_PORT:-5099}; URL=http://127.0.0.1:$PORT

up() { # the server answers /healthz (curl, or python where a host has no curl)
  if command -v curl > /dev/null; then curl -sf "$URL/healthz" > /dev/null
  else python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$URL/healthz" 2> /dev/null; fi
}
serve() { # extra options...; starts the server, waits until it answers
  "$S2D" serve --model "$MODEL" --urls "$URL" --no-access-log ${S2D_SERVE_ARGS:-} "$@" > "$OUT/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do up && return 0; sleep 0.2; done
  echo "server did not start: $(cat "$OUT/server.log")" >&2; exit 1
}
PID=
stop() { [ -n "$PID" ] || return 0; kill "$PID" 2> /dev/null || true; wait "$PID" || true; PID=; }
trap stop EXIT # a failed step never leaves a server holding the port

for r in $(seq 1 "$ROUNDS"); do
  for mode in off on; do
    if [ $mode = off ]; then serve --max-batch 1; else serve --max-batch 32; fi
    "$S2D" bench serve --url "$URL" --image "$IMAGE" --concurrency 1 8 32 --requests 640 --output "$OUT/$mode-$r.md" > /dev/null
    stop
  done
done
if [ "$SOAK" -gt 0 ]; then
serve --max-batch 32
"$S2D" bench serve --url "$URL" --image "$IMAGE" --soak --concurrency 16 --requests "$SOAK" --server-pid "$PID" --output "$OUT/soak.md" > /dev/null
stop
fi
for f in "$OUT"/off-*.md "$OUT"/on-*.md "$OUT"/soak.md; do [ -f "$f" ] || continue; echo "## $(basename "$f" .md)"; cat "$f"; done
