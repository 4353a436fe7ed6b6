#!/usr/bin/env bash
# 2026-11-30 (21:52 UTC session), call 6: batch 1 on the 32-row warp split. Batch 1's 4 (Mistral) or 8 (gpt-oss)
# query rows per KV head take the 16-row spec: 4 warps per workgroup issue all of its K/V copies and do all of its
# math, at 2 workgroups per SM. "r32": spec.py's mma_rows_for gives the warp split 32 rows whatever the rows needed
# (8 warps, two row groups sharing the ring), and the kernel's warps of a row group without rows only issue copies
# and meet the barriers (gpu_call_2026-11-30at_r32.patch), so the copies are issued by twice the threads and the
# math stays with the first row group. Same split (32 x 128). Rounds tree r32 x 3: split_study.py on both batch-1
# rows, then the benchmark's batch-1 row twice.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30at.sh   Logs: $OUT/call_r32.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_r32
ab_variant_spec_edit r32s "        return next(r for r in MMA_WARP_KV_ROWS if rows_needed <= r)" \
    "        return MMA_WARP_KV_ROWS[-1]" || exit 1
ab_variant_patch r32 /tmp/ab_edit_r32s op_tests/gpu_calls/gpu_call_2026-11-30at_r32.patch || exit 1
cp /tmp/ab_variants/r32s/spec/spec.py /tmp/ab_variants/r32/spec/spec.py
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1
   --sliding-window on)
ab_build tree "${B[@]}" --mma-rows 16
ab_build r32 "${B[@]}" --mma-rows 32
ab_split "tree r32 tree r32 tree r32" --caps 0 --no-vector \
    --rows "mistral B1 32K w4096" "gpt-oss B1 32K w4096"
ab_bench "tree r32 tree r32" --issue8 --no-peers --reps 7 --rows "mistral B1 32K w4096"
ab_done
