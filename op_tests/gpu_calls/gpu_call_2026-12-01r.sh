#!/usr/bin/env bash
# 2026-12-01 (07:53 UTC session), call 1: batch 1's set-up. Nsight Compute (00:06 UTC session, call 4) had
# constant-cache misses (25%) and instruction-cache misses (21%) the top stalls of the matrix-core partition
# kernel's set-up, and in the sm_90 SASS the set-up is ~800 instructions with ~180 between the context length's
# arrival and the first block-table load. Variants, on ffdf925 (carry .ab_old = `git archive ffdf925 csrc
# aiter_swa/ops/pa_v1/spec.py`):
#   "tree": ffdf925;
#   "warm" (gpu_call_2026-12-01r_warm.patch): before the programmatic launch's wait, both matrix-core kernels read
#     one word of every 32 bytes of their parameters (10 ULDC before ACQBULK), so that the constant-bank lines
#     arrive while the kernel waits for the previous one;
#   "lean" (the working tree then: gpu_call_2026-12-01r_lean.patch): warm, plus the rows' set-up after the
#     block-table loads, the ring's locate and ring_row without branches (first entry load 120 instead of 180
#     instructions after the context length, the set-up barrier at 755 instead of 791).
# Prediction: batch 1 0.1-0.4 us faster (warm), 0.1-0.2 more (lean); one-partition rows unchanged.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01r.sh   carry: .ab_old   Logs: $OUT/call_r.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_r
ab_variant old .ab_old
ab_variant_patch warm .ab_old op_tests/gpu_calls/gpu_call_2026-12-01r_warm.patch || exit 1
ab_variant lean .
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16)
for v in old warm lean; do ab_build $v "${B[@]}"; done
ab_split "old warm lean lean warm old old warm lean" --caps 0 --no-vector \
    --rows "mistral B1 32K w4096" "gpt-oss B1 32K w4096"
ROWS=("mistral B1 32K w4096" "gpt-oss B64 16K w128" "mistral B32 16K w4096" "gpt-oss B64 16K w4096"
      "seed B8 9216 w8192" "mistral B32 16K off")
ab_bench "old lean warm warm lean old" --issue8 --no-peers --reps 5 --rows "${ROWS[@]}"
ab_tests lean op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_robustness.py
ab_done
echo "$(ab_t) all done"
