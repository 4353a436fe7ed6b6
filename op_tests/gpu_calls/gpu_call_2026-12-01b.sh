#!/usr/bin/env bash
# 2026-12-01 (00:06 UTC session), call 2. "tree": call 1's change (the block table read for max_context_len while
# the context length is in flight) with the fix of the failure call 1's robustness tests found (an empty partition
# checked no id as if it were one: test_hostile_metadata[no_blocks]); "old" (carry .ab_old = 5bbca7b): before it;
# "s5": the tree with the warp split's ring at 5 stages where 2 workgroups per SM fit (spec.py edit), so that batch
# 1's 128-key partitions (4 tiles of 32 keys at head 128, 2 of 64 at head 64) have every tile in flight from the
# start instead of 2 (and 2 workgroups per SM, which is what batch 1's 256 workgroups occupy anyway). Rounds of
# split_study.py on both batch-1 rows, then three of issue 8's rows (Mistral batch 32 again: call 1 had the tree
# 1% slower there), then the matrix-core and robustness GPU test files on the tree.
# The change was in the working tree: to run this again, `git apply op_tests/gpu_calls/gpu_call_2026-12-01b_spec.patch`
# on 5bbca7b, with .ab_old as in gpu_call_2026-12-01a.sh. Not kept (docs/results.md, 2026-12-01 00:06 UTC session).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01b.sh   carry: .ab_old   Logs: $OUT/call_s5.tgz, $OUT/check
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_s5
ab_variant old .ab_old
ab_variant_spec_edit s5 "MMA_WARP_KV_MAX_STAGES = 3" "MMA_WARP_KV_MAX_STAGES = 5" \
    "        if _workgroups_in_smem(arch, smem) >= per_sm:" "        if _workgroups_in_smem(arch, smem) >= 2:" || exit 1
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16
   --sliding-window on)
for v in tree old s5; do ab_build $v "${B[@]}"; done
ab_split "tree old s5 s5 old tree tree old s5" --caps 0 --no-vector --rows "mistral B1 32K w4096" "gpt-oss B1 32K w4096"
ab_bench "tree old s5 s5 old tree" --issue8 --no-peers --reps 5 \
    --rows "mistral B1 32K w4096" "gpt-oss B64 16K w128" "mistral B32 16K w4096"
ab_done
mkdir -p "$AB_O/check"
OUT=$AB_O/check CHECK_TIMEOUT=150 timeout -k 10 160 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_robustness.py 2>&1 | tail -6
echo "$(ab_t) all done"
