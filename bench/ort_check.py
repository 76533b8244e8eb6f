#!/usr/bin/env python3
"""The exported model on the host's own ONNX Runtime (python onnxruntime), for a GPU host where s2d's CUDA provider
library cannot be brought: logits of the CUDA provider against the CPU provider on one seeded batch of normal noise,
and images/s of each at batch 1/32/256. Needs onnxruntime (onnxruntime-gpu for CUDA) and numpy.

    python3 bench/ort_check.py model.onnx [--json out.json] [--seconds 2]
"""
import argparse, json, sys, time

import numpy as np
import onnxruntime as ort


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model")
    p.add_argument("--json")
    p.add_argument("--seconds", type=float, default=2.0)
    a = p.parse_args()
    available = ort.get_available_providers()
    providers = [x for x in ("CUDAExecutionProvider", "CPUExecutionProvider") if x in available]
    sessions = {x: ort.InferenceSession(a.model, providers=[x]) for x in providers}
    # An installed provider that cannot load (a CUDA library missing) leaves the session on the CPU with a warning only:
    # figures labelled CUDA would be the CPU's. Only sessions that run on the provider asked for are kept.
    fell_back = [x for x, s in sessions.items() if s.get_providers()[0] != x]
    for x in fell_back:
        print(f"ort_check: {x} is installed but the session runs on {sessions[x].get_providers()[0]}; not measured", file=sys.stderr)
        del sessions[x]
    providers = list(sessions)
    first = next(iter(sessions.values())).get_inputs()[0]
    size = first.shape[2] if isinstance(first.shape[2], int) else 224
    x = np.random.default_rng(0).standard_normal((32, 3, size, size)).astype(np.float32)
    logits = {k: s.run(None, {first.name: x})[0] for k, s in sessions.items()}
    result = {"onnxruntime": ort.__version__, "providers": providers, "input_size": size}
    if "CUDAExecutionProvider" in logits:
        d = np.abs(logits["CUDAExecutionProvider"] - logits["CPUExecutionProvider"])
        result["cuda_vs_cpu_max_abs_diff"] = float(d.max())
        result["cuda_vs_cpu_top1_agreement"] = float((logits["CUDAExecutionProvider"].argmax(1) == logits["CPUExecutionProvider"].argmax(1)).mean())
    for k, s in sessions.items():
        for n in (1, 32, 256):
            xb = np.random.default_rng(1).standard_normal((n, 3, size, size)).astype(np.float32)
            s.run(None, {first.name: xb})
            times, start = [], time.perf_counter()
            while len(times) < 3 or time.perf_counter() - start < a.seconds:
                t = time.perf_counter(); s.run(None, {first.name: xb}); times.append(time.perf_counter() - t)
            result[f"{k}_batch{n}_images_per_s"] = n / float(np.median(times))
    if fell_back:
        result["not_running"] = fell_back
    print(json.dumps(result, indent=2))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=2)
    return 1 if "CUDAExecutionProvider" in fell_back else 0


if __name__ == "__main__":
    sys.exit(main())
