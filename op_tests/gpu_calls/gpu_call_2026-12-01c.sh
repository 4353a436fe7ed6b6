#!/usr/bin/env bash
# 2026-12-01 (00:06 UTC session), call 3: the change of calls 1 and 2 in its final form against the tree before it.
# "tree": the block table read for max_context_len while the context length is in flight, read again for a shorter
# one; the loop's tiles now come from the key range computed once for the context length (in calls 1 and 2 they were
# a merge of the guess's and the redo's values, and the sm_90 loop had 432 instructions instead of 430: Mistral
# batch 32 was 0.7% slower in both calls). "old" (carry .ab_old = 5bbca7b): before it. Rounds of split_study.py
# on both batch-1 rows, then issue 8's rows of the matrix-core kernel (Gemma-3's runs the vector kernel, not
# changed), then the matrix-core, robustness and one-token GPU test files on the tree.
# The change was in the working tree: to run this again, `git apply op_tests/gpu_calls/gpu_call_2026-12-01c_spec.patch`
# on 5bbca7b, with .ab_old as in gpu_call_2026-12-01a.sh. Not kept (docs/results.md, 2026-12-01 00:06 UTC session).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01c.sh   carry: .ab_old   Logs: $OUT/call_final.tgz, $OUT/check
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_final
ab_variant old .ab_old
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16)
for v in tree old; do ab_build $v "${B[@]}"; done
ab_split "tree old old tree" --caps 0 --no-vector --rows "mistral B1 32K w4096" "gpt-oss B1 32K w4096"
ab_bench "tree old old tree" --issue8 --no-peers --reps 5 --rows "mistral B1 32K w4096" "gpt-oss B64 16K w128" \
    "mistral B32 16K w4096" "gpt-oss B64 16K w4096" "seed B8 9216 w8192" "mistral B32 16K off"
ab_done
mkdir -p "$AB_O/check"
OUT=$AB_O/check CHECK_TIMEOUT=230 timeout -k 10 240 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_robustness.py op_tests/pa_v1/test_pa_v1_gpu.py 2>&1 | tail -6
echo "$(ab_t) all done"
