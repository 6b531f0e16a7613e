#!/usr/bin/python3.11
"""Times torch.optim.AdamW (foreach and for-loop) on the CPU at the sizes and thread counts of the .NET
benchmarks, so both sides can be read side by side in benchmarks/results/latest.json.

Run with Debian's python3.11 (the one with python3-torch 1.13); the pyenv python3 first on PATH has no torch:

    /usr/bin/python3.11 benchmarks/torch/bench_torch.py --out torch.json

Each row is one optimizer step: warmup steps first, then the median over repeats of the mean time of a
batch of steps (batched so that a sample lasts at least --min-sample-ms). Parameters and gradients come
from a seeded torch.Generator; the gradient stays fixed, as in the .NET kernel benchmarks.
"""
import argparse
import json
import platform
import statistics
import sys
import time

import torch

# The .NET ShapeCase.Standard: (tensors, elements per tensor).
SHAPES = [(1, 1_000), (1, 100_000), (1, 10_000_000), (1, 1_000_003), (100, 100_000)]


def make_params(tensors, per_tensor, seed):
    generator = torch.Generator().manual_seed(seed)
    params = []
    for _ in range(tensors):
        p = torch.nn.Parameter(torch.randn(per_tensor, generator=generator) * 0.1)
        p.grad = torch.randn(per_tensor, generator=generator) * 1e-2
        params.append(p)
    return params


def time_step(step, warmup, repeats, min_sample_s):
    for _ in range(warmup):
        step()
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            step()
        elapsed = time.perf_counter() - start
        if elapsed >= min_sample_s or calls >= 1 << 16:
            break
        calls *= 2
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            step()
        samples.append((time.perf_counter() - start) / calls)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default="1,2", help="comma-separated torch.set_num_threads values")
    parser.add_argument("--shapes", default=None, help="comma-separated shapes like 1000,100x100000 (default: all)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--min-sample-ms", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=20260302)
    parser.add_argument("--out", default="-", help="JSON output file, - for stdout")
    args = parser.parse_args()

    shapes = SHAPES
    if args.shapes:
        shapes = []
        for text in args.shapes.split(","):
            tensors, _, per = text.partition("x")
            shapes.append((int(tensors), int(per)) if per else (1, int(tensors)))
    torch.manual_seed(args.seed)
    rows = []
    for threads in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads)
        for tensors, per_tensor in shapes:
            for foreach in (True, False):
                params = make_params(tensors, per_tensor, args.seed)
                # The STAC toy benchmark's AdamW settings; betas and eps are torch's defaults.
                optimizer = torch.optim.AdamW(params, lr=3e-3, weight_decay=1e-2, foreach=foreach)
                seconds = time_step(optimizer.step, args.warmup, args.repeats, args.min_sample_ms / 1e3)
                rows.append({
                    "optimizer": "AdamW-foreach" if foreach else "AdamW-forloop",
                    "backend": "torch",
                    "elements": tensors * per_tensor,
                    "tensors": tensors,
                    "threads": threads,
                    "state_dtype": "float32",
                    "ms": seconds * 1e3,
                })
                print(f"torch {rows[-1]['optimizer']:14s} {tensors}x{per_tensor} threads={threads}: {seconds * 1e3:.4f} ms",
                      file=sys.stderr)
                del optimizer, params
    result = {
        "torch_version": torch.__version__,
        "python": platform.python_version(),
        "parallel_info": torch.__config__.parallel_info().splitlines()[:6],
        "rows": rows,
    }
    text = json.dumps(result, indent=1)
    if args.out == "-":
        print(text)
    else:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
