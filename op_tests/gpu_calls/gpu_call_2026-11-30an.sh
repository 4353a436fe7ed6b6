#!/usr/bin/env bash
# 2026-11-30 (19:11 UTC session), call 5 (the session's last device seconds): two questions left by calls 2 to 4.
#   "keys64": spec.py MMA_MIN_PARTITION_KEYS 128 -> 64. With the reduce's launch overlapped, does batch 1 (32
#     partitions of 128 keys, 256 workgroups) gain from 64 partitions of 64 keys (512 workgroups, a wave of 4 per SM)?
#   "always": PROGRAMMATIC_REDUCE_MAX_WORKGROUPS_PER_CU 6 -> 2^20. The no-window row (1024 reduce workgroups) in
#     the benchmark's harness again: call 2 measured the programmatic launch 0.8% slower there, call 3's split
#     study 0.3-1% faster.
# Rounds tree, keys64, always x 3 of batch 1, no window and the seed shape.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30an.sh   Logs: $OUT/call_last.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_last
ab_variant_spec_edit keys64 "MMA_MIN_PARTITION_KEYS = 128" "MMA_MIN_PARTITION_KEYS = 64" || exit 1
ab_variant_spec_edit always "PROGRAMMATIC_REDUCE_MAX_WORKGROUPS_PER_CU = 6" \
    "PROGRAMMATIC_REDUCE_MAX_WORKGROUPS_PER_CU = 1 << 20" || exit 1
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 128 --gqa 1 --mma-rows 16)
for v in tree keys64 always; do ab_build $v "${B[@]}"; done
ab_bench "tree keys64 always tree keys64 always tree keys64 always" --issue8 --no-peers --reps 7 \
    --rows "mistral B1 32K w4096" "mistral B32 16K off" "seed B8 9216 w8192"
ab_done
