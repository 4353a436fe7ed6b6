#!/usr/bin/env bash
# Prepared in the session of 2026-11-30 10:30 UTC, not yet run on a GPU: the warp split's write after the key loop,
# 8 columns of a row per thread and step (gpu_call_next_epilogue.patch): the key groups' O read as float4, the row's
# factor (v_mul / l, or with a sink (num v_mul) / den) once per row instead of a division per element, one 16-byte
# store where the row's address is a multiple of 16, else 8 scalar stores. Before it: one element per step, 16
# steps per thread at head 128 x 16 rows, each with a division and a 2-byte store (the sm_90 loop: 238 instructions
# per 4 elements; after: 185 per 8 columns, both paths of the store in it; the kernel 2396 -> 2260 instructions).
# Batch 1's partition kernel issues about 3.4 thousand instructions per warp (that session's Nsight pass), of which
# this loop was roughly a sixth. Checked on the CPU: the emulator's 84 matrix-core tests (with
# test_emulated_warp_split_out_alignment: an out whose heads alternate between 16-byte-aligned and not, one
# partition and a split; the emulator now counts 16-byte stores at addresses not a multiple of 16 and every launch
# asserts none: that test fails with the alignment test removed) and the 31 vector ones.
# A-B against the tree (the write as it is), per-kernel times, then the matrix-core, multi-token and robustness GPU
# tests on the patched tree.
# Apply first: git apply op_tests/gpu_calls/gpu_call_next_epilogue.patch; .ab_old = the tree's csrc/include before
# it: rm -rf .ab_old && mkdir .ab_old && git archive HEAD csrc/include | tar -x -C .ab_old
# run: bash op_tests/gpu_calls/gpu_call_next_epilogue.sh   carry: .ab_old.  Logs: $OUT/call_next_epilogue.tgz
# (~8 min: the A-B part ~4, the tests at most 280 s)
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
