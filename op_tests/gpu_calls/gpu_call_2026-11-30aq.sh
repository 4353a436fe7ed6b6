#!/usr/bin/env bash
# 2026-11-30 (21:52 UTC session), call 2: batch 1's split on the tree with call 1's "dep" (the partition kernel a
# programmatic dependent launch, the reduce's 32 partial loads in flight). The session of 04:54 UTC measured 64
# partitions of 64 keys slower than 32 of 128 (the reduce 3.5 against 2.6 us); the reduce now overlaps the
# partition kernel and reads 32 partials in one round trip. Variants:
#   p64:  spec.py MMA_MIN_PARTITION_KEYS 64 and MMA_SATURATING_WORKGROUPS_PER_CU 4 (batch 1: 64 partitions of 64
#         keys, 512 workgroups, a wave of 4 per SM; other rows change too, so only batch 1's rows are read here);
#   p64k: p64 with lse.h's 64 partial loads in flight (gpu_call_2026-11-30aq_kb64.patch), one round trip for 64.
# Rounds tree p64 p64k x 3: split_study.py (Mistral and gpt-oss batch 1, each variant's own split) and the
# benchmark's batch-1 row.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30aq.sh   Logs: $OUT/call_split.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_split
ab_variant_spec_edit p64 "MMA_MIN_PARTITION_KEYS = 128" "MMA_MIN_PARTITION_KEYS = 64" \
    "MMA_SATURATING_WORKGROUPS_PER_CU = 2" "MMA_SATURATING_WORKGROUPS_PER_CU = 4" || exit 1
ab_variant_patch p64k /tmp/ab_edit_p64 op_tests/gpu_calls/gpu_call_2026-11-30aq_kb64.patch || exit 1
cp /tmp/ab_variants/p64/spec/spec.py /tmp/ab_variants/p64k/spec/spec.py
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1
   --mma-rows 16 --sliding-window on)
for v in tree p64 p64k; do ab_build $v "${B[@]}"; done
ab_split "tree p64 p64k tree p64 p64k tree p64 p64k" --caps 0 --no-vector \
    --rows "mistral B1 32K w4096" "gpt-oss B1 32K w4096"
ab_bench "tree p64 p64k tree p64 p64k" --issue8 --no-peers --reps 7 --rows "mistral B1 32K w4096"
ab_done
