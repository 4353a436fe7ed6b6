#!/usr/bin/env bash
# 2026-11-30 (19:11 UTC session), call 3: which reduce grids gain from the programmatic dependent launch? Call 2
# (gpu_call_2026-11-30ak.sh) measured it always on against off: 0.7-1.6 us faster at 32 to 256 reduce workgroups,
# 4 us slower at 1024 (Mistral B32 without a window). Here the split study's default split of rows with 32 to
# 1024 reduce workgroups, 2 rounds of "always" (PROGRAMMATIC_REDUCE_MAX_WORKGROUPS_PER_CU = 2^20) against
# "nopdl" (programmatic_launch False); the tree's rule (at most 2 per SM) is one or the other at each row.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30al.sh   Logs: $OUT/call_pdl_rule.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_pdl_rule
ab_variant_spec_edit always "PROGRAMMATIC_REDUCE_MAX_WORKGROUPS_PER_CU = 2" \
    "PROGRAMMATIC_REDUCE_MAX_WORKGROUPS_PER_CU = 1 << 20" || exit 1
ab_variant_spec_edit nopdl "    return _sm(arch) >= 90" "    return False" || exit 1
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16)
for v in always nopdl; do ab_build $v "${B[@]}"; done
ROWS=("mistral B1 32K w4096" "gpt-oss B1 32K w4096" "mistral B4 32K w4096" "seed B8 9216 w8192"
      "mistral B16 16K w4096" "mistral B24 16K w4096" "mistral B32 16K w8192" "mistral B32 8K off" "mistral B32 16K off")
for r in 1 2; do
    for v in always nopdl; do
        ab_use $v; echo "== split $v round $r $(ab_t)"
        AITER_SWA_PREBUILT_DIR=/tmp/kernels_$v timeout -k 5 120 python3 op_tests/pa_v1/split_study.py \
            --rows "${ROWS[@]}" --caps 0 --no-vector 2>&1 | tee -a "$AB_L/split_$v.log" | grep -E "^mma +default|ROW|rror"
    done
done
ab_done
