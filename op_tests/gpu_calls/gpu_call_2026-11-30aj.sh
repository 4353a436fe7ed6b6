#!/usr/bin/env bash
# 2026-11-30 (19:11 UTC session), call 1 (19:13 UTC; 201 s, no carry; prepared by the 16:17 UTC session as
# gpu_call_next.sh): the 4-stage ring, not kept (docs/results.md). Issue 8's last missed shape besides batch 1: Mistral B32 16K without a window,
# 1.02x FlashInfer (500.9 against 490.7 us). Its split takes 2 partitions and pays the 3.5 us reduce kernel; one
# partition is 7% slower, because its 256 workgroups (1.94 per SM) read 4.02 TB/s against 4.35 with 512
# (docs/results.md, that session, calls 2 and 3).
# Question: does a deeper ring (4 stages: 3 key tiles, 48 KiB of K/V in flight per workgroup instead of 32)
# raise what few workgroups read? It costs workgroups per SM: 3 instead of 4 at 16 rows (72.5 KiB of shared
# memory each).
#   "s4": spec.py with MMA_WARP_KV_MAX_STAGES = 4 and mma_stages accepting min(launch bound, 3) workgroups per SM
#     (sm_90: 16 rows 4 stages, 3 per SM; 32 rows 4 stages, 2 per SM);
#   "tree": the tree.
# Checked on the CPU with "s4"'s spec.py: the sm_90 matrix-core emulator tests 35 passed (the stage-count assertion
# of test_emulated_kv_path deselected); sm_90 pre-build of heads 64/128 x 16/32 rows: 123-126 registers, 0 spills.
# Rounds s4, tree x 3 of the rows below, then the split study of the no-window row per variant (caps 1 2 3 4).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30aj.sh   Logs: $OUT/call_stages.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_stages
ab_variant_spec_edit s4 "MMA_WARP_KV_MAX_STAGES = 3" "MMA_WARP_KV_MAX_STAGES = 4" \
    "if _workgroups_in_smem(arch, smem) >= per_sm:" "if _workgroups_in_smem(arch, smem) >= min(per_sm, 3):" || exit 1
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16,32)
for v in s4 tree; do ab_build $v "${B[@]}"; done
ROWS=("mistral B32 16K off" "mistral B32 16K w4096" "mistral B1 32K w4096" "gpt-oss B64 16K w128"
      "gpt-oss B64 16K w4096" "seed B8 9216 w8192" "gpt-oss B64 16K w4096 mtp4")
ab_bench "s4 tree s4 tree s4 tree" --issue8 --no-peers --reps 5 --kernel mma --rows "${ROWS[@]}"
for v in s4 tree; do
    ab_use $v; echo "== split $v $(ab_t)"
    AITER_SWA_PREBUILT_DIR=/tmp/kernels_$v timeout -k 5 90 python3 op_tests/pa_v1/split_study.py \
        --rows "mistral B32 16K off" --caps 1 2 3 4 2>&1 | tee -a "$AB_L/split_$v.log" | grep -E "^(mma|summary)"
done
ab_done
