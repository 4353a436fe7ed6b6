#!/usr/bin/env bash
# 2026-11-30 (13:00 UTC session), call 1 (13:04 UTC; prepared by the session before as gpu_call_next_epilogue.sh
# with its patch, kept: git history has the patch): the warp split's write after the key loop, 8 columns of a row
# per thread and step: the key groups' O read as float4, the row's factor once per 8 columns instead of a division
# per element, one 16-byte store where the row's address is a multiple of 16, else 8 scalar stores. The sm_90 loop
# went from 238 instructions per 4 elements to 185 per 8 columns (head 128 x 16 rows: 2396 -> 2260 in the kernel).
# "vec": the tree with the patch; "tree_write": .ab_old = 169e16f's csrc/include. A-B rounds of issue 8's rows,
# per-kernel times, then the matrix-core, multi-token and robustness GPU tests on the patched tree (docs/results.md).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30z.sh   carry: .ab_old.  Logs: $OUT/call_next_epilogue.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_next_epilogue
ab_variant vec .
ab_variant tree_write .ab_old
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16,32)
for v in vec tree_write; do ab_build $v "${B[@]}"; done
ROWS=("mistral B1 32K w4096" "gpt-oss B64 16K w128" "seed B8 9216 w8192" "mistral B32 16K w4096"
      "gpt-oss B64 16K w4096" "mistral B32 16K off" "mistral B32 16K w4096 mtp4" "gpt-oss B64 16K w128 mtp4")
ab_bench "vec tree_write vec tree_write vec tree_write" --issue8 --no-peers --reps 5 --kernel mma --rows "${ROWS[@]}"
ab_kernel_times "vec tree_write" --calls 100 --workspace aiter --shapes "mistral B1 w4096" "mistral w4096" "seed w8192"
ab_done
OUT=/tmp/call_next_epilogue/check CHECK_TIMEOUT=280 timeout -k 10 300 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_mtp_gpu.py op_tests/pa_v1/test_pa_v1_robustness.py 2>&1 | tail -4
tar czf "$AB_O/call_next_epilogue.tgz" -C /tmp/call_next_epilogue .
