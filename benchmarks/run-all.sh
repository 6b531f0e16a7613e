#!/usr/bin/env bash
# One command for the benchmarks (benchmarks/README.md).
#
#   benchmarks/run-all.sh          quick run, about 5-10 minutes: bandwidth probe, every kernel row (AVX-512, AVX2 and
#                                  128-bit paths), optimizer-level rows, torch 1.13 AdamW, convergence workloads.
#                                  Writes benchmarks/results/ and the latest-results block of benchmarks/README.md.
#   benchmarks/run-all.sh full     for a QUIET machine: the same with the full timing plan and longer training, then
#                                  every BenchmarkDotNet suite (--job short, all ISA jobs; a few hours). BDN reports go
#                                  to benchmarks/results/bdn/.
#   benchmarks/run-all.sh smoke    pipeline check on a busy machine: small sizes, BDN --job dry on AdamWStep (three ISA
#                                  jobs) and on OptimizerLevelStep (native ISA; its Allocated column).
#
# Extra arguments after the mode go to the quick runner (e.g. --no-torch, --shapes 1000,100x100000).
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-quick}"
[ $# -gt 0 ] && shift

BENCH_GIT_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
git diff --quiet HEAD -- . ':!benchmarks/results' ':!benchmarks/README.md' 2>/dev/null || BENCH_GIT_COMMIT="${BENCH_GIT_COMMIT}+uncommitted"
export BENCH_GIT_COMMIT

dotnet build benchmarks/Optimizers.Benchmarks -c Release -nologo -v q
bench=(dotnet benchmarks/Optimizers.Benchmarks/bin/Release/net10.0/Optimizers.Benchmarks.dll)

case "$mode" in
  quick)
    "${bench[@]}" quick --readme benchmarks/README.md "$@"
    ;;
  full)
    "${bench[@]}" quick --full --readme benchmarks/README.md "$@"
    "${bench[@]}" bdn --job short --isa all --filter '*' --artifacts benchmarks/results/bdn
    ;;
  smoke)
    out="$(mktemp -d)"
    "${bench[@]}" quick --out "$out" --shapes 1000,10x1000 "$@"
    "${bench[@]}" bdn --job dry --isa all --filter '*AdamWStep*' --artifacts "$out/bdn"
    # Whole Step() of every production class at every size and path: the Allocated column must read '-' everywhere.
    "${bench[@]}" bdn --job dry --isa native --filter '*OptimizerLevelStep*' --artifacts "$out/bdn-optimizer"
    echo "smoke results in $out"
    ;;
  *)
    echo "usage: benchmarks/run-all.sh [quick|full|smoke] [quick-runner options]" >&2
    exit 2
    ;;
esac
