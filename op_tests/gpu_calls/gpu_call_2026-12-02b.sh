#!/usr/bin/env bash
# 2026-12-02 session, call 2: the partitions merged inside the matrix-core partition kernel after a cooperative
# launch's grid barrier (mma_grid_merge) wherever the grid fits the GPU at once, against the reduce kernel. "tree":
# the change; "old" (carry .ab_old = 85c7563's csrc and spec.py): before it. Rounds of split_study.py on the batch-1
# rows, then issue 8's rows (each row's own kernel), then the matrix-core, one-token and robustness GPU test files
# on the tree (graph replay, hostile metadata, and test_grid_merge_replaces_the_reduce).
# Not kept (docs/results.md, 2026-12-02 01:27 UTC session). To run this again: on 85c7563, `git apply
# op_tests/gpu_calls/gpu_call_2026-12-02b_gridmerge.patch` and `rm -rf .ab_old && mkdir .ab_old && git archive
# 85c7563 csrc aiter_swa/ops/pa_v1/spec.py | tar -x -C .ab_old`.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-02b.sh   carry: .ab_old   Logs: $OUT/call_gm.tgz, $OUT/check
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_gm
ab_variant old .ab_old
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128,256 --gqa 1,2
   --mma-rows 0,16,32)
ab_build tree "${B[@]}"
ab_build old "${B[@]}"
ab_split "tree old tree old tree old" --caps 0 --no-vector --rows "mistral B1 32K w4096" "gpt-oss B1 32K w4096"
ROWS=("mistral B1 32K w4096" "gpt-oss B64 16K w128" "mistral B32 16K w4096" "gpt-oss B64 16K w4096"
      "gemma3 B16 16K w1024" "seed B8 9216 w8192" "mistral B32 16K off" "mistral B32 16K w4096 mtp4"
      "gpt-oss B64 16K w4096 mtp4")
ab_bench "tree old old tree" --issue8 --no-peers --reps 5 --rows "${ROWS[@]}"
ab_done
mkdir -p "$AB_O/check"
OUT=$AB_O/check CHECK_TIMEOUT=230 timeout -k 10 240 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_gpu.py op_tests/pa_v1/test_pa_v1_robustness.py \
    2>&1 | tail -8
echo "$(ab_t) all done"
