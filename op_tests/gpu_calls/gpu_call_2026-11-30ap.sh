#!/usr/bin/env bash
# 2026-11-30 (21:52 UTC session), call 1: batch 1's time after the partition kernel (issue 8: <= 10 us, 11.0 in the
# session before). Variants of the tree (patches on it, csrc only):
#   kb32    (gpu_call_2026-11-30ap_kb32.patch): lse.h's reduce loads 32 partials per thread in flight instead of 16, so
#           batch 1's 32 partitions take one round trip after the wait instead of two;
#   dep     (_dep.patch): kb32, and the partition kernel (both kernels') a programmatic dependent launch of the
#           stream's previous kernel on sm_90 (griddepcontrol.wait before its first global read), its early trigger
#           only when a reduce follows;
#   deplate (_deplate.patch): dep, and the reduce triggers its dependents once its partials are read.
# Rounds tree kb32 dep deplate, then the reverse, issue 8's rows with each row's own kernel.
# Kept: dep (the session's commit applies it to the tree; docs/results.md, 2026-11-30 21:52 UTC session, call 1).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30ap.sh   Logs: $OUT/call_dep.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_dep
G=op_tests/gpu_calls
ab_variant_patch kb32 . $G/gpu_call_2026-11-30ap_kb32.patch || exit 1
ab_variant_patch dep . $G/gpu_call_2026-11-30ap_dep.patch || exit 1
ab_variant_patch deplate . $G/gpu_call_2026-11-30ap_deplate.patch || exit 1
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off)
for v in tree kb32 dep deplate; do
    ab_build $v "${B[@]}" --head-size 64,128 --gqa 1 --mma-rows 16
    ab_build $v "${B[@]}" --head-size 256 --gqa 2 --mma-rows 0 --sliding-window on
done
ROWS=("mistral B1 32K w4096" "mistral B32 16K w4096" "gpt-oss B64 16K w128" "gpt-oss B64 16K w4096"
      "gemma3 B16 16K w1024" "seed B8 9216 w8192" "mistral B32 16K off")
ab_bench "tree kb32 dep deplate deplate dep kb32 tree" --issue8 --no-peers --reps 5 --rows "${ROWS[@]}"
ab_done
