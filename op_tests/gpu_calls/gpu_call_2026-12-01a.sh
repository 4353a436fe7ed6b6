#!/usr/bin/env bash
# 2026-12-01 (00:06 UTC session), call 1: the matrix-core partition kernel reads the block table as if the context
# length were max_context_len, with the context length's load in flight, and again for a shorter one (batch 1: one
# global round trip before the K/V copies instead of two). "tree": the change; "old" (carry .ab_old = 5bbca7b's
# csrc and spec.py): before it. Rounds of split_study.py on both batch-1 rows, then issue 8's rows (each row's own
# kernel), then the one-token, matrix-core and robustness GPU test files on the tree (its graph test in the
# form of 5bbca7b, not yet run on a GPU; the hostile case with garbage past each context runs the redo path).
# The change was in the working tree: to run this again, `git apply op_tests/gpu_calls/gpu_call_2026-12-01a_spec.patch`
# on 5bbca7b, and `rm -rf .ab_old && mkdir .ab_old && git archive 5bbca7b csrc aiter_swa/ops/pa_v1/spec.py | tar -x
# -C .ab_old`. Not kept (docs/results.md, 2026-12-01 00:06 UTC session).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01a.sh   carry: .ab_old   Logs: $OUT/call_spec.tgz, $OUT/check
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_spec
ab_variant old .ab_old
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16)
ab_build tree "${B[@]}"
ab_build old "${B[@]}"
ab_split "tree old tree old tree old" --caps 0 --no-vector --rows "mistral B1 32K w4096" "gpt-oss B1 32K w4096"
ROWS=("mistral B1 32K w4096" "gpt-oss B64 16K w128" "mistral B32 16K w4096" "gpt-oss B64 16K w4096"
      "seed B8 9216 w8192" "mistral B32 16K off")
ab_bench "tree old old tree" --issue8 --no-peers --reps 5 --rows "${ROWS[@]}"
ab_done
mkdir -p "$AB_O/check"
OUT=$AB_O/check CHECK_TIMEOUT=200 timeout -k 10 210 bash op_tests/run_gpu_suite.sh check op_tests/pa_v1/test_pa_v1_gpu.py \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_robustness.py 2>&1 | tail -6
echo "$(ab_t) all done"
