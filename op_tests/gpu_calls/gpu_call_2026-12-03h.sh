#!/usr/bin/env bash
# 2026-12-03 (12:27 UTC session), call 2: convert8's fp8 branch folded onto convert8_f16 (vec.h: convert8 widens
# convert8_f16's fp16 values, a NaN code 0x7e00 -> a quiet NaN; one copy of the E4M3 re-reading and of the NaN
# patch instead of two). It changes the code of the vector kernel's fp8 K/V and of the matrix-core kernel's
# bf16-query fp8 store ("old": gpu_call_2026-12-03h_unfold.patch, the tree's csrc with the fold undone). Resources
# before -> after (this session, sm_90/gfx942/gfx90a): zero scratch and zero spills; registers +-1..8 (sm_90
# vector kernel g1 heads 32/64/192/256 40 -> 47-48, head 512 63 -> 55; bf16-query matrix-core head 128 x 16
# 229-232 -> 216-218). (1) GPU tests on the tree: the op's fp8 tests (test_pa_v1_swa.py -k fp8 on the GPU: both
# formats, both query types, windows, layouts, every feature, the exact-decode test), the matrix-core fp8 tests,
# test_pa_v1_gpu.py (sync-debug "error", graph replay, scales read on the device) and the no-sync / graph tests of
# the matrix-core and multi-token files; kernels compiled on first use (-n 8). (2) the benchmark's fp8 rows with
# fp16 and bf16 queries, rounds tree old old tree. Prediction: tests pass; no row slower than its spread.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-03h.sh   Logs: $OUT/call_fold.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_fold
ab_variant_patch old . op_tests/gpu_calls/gpu_call_2026-12-03h_unfold.patch || exit 1
FP8K=(--q-dtype fp16,bf16 --kv-dtype fp8e4m3fn,fp8e4m3fnuz --out-dtype fp16,bf16 --soft-cap off --alibi off
      --head-size 64,128 --gqa 1,4 --mma-rows 0,16 --sliding-window on)
for v in tree old; do ab_build $v "${FP8K[@]}"; done
ab_use tree
echo "== tests $(ab_t)"
timeout -k 5 330 python3 -m pytest -q -p no:cacheprovider -n 8 op_tests/pa_v1/test_pa_v1_swa.py \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_gpu.py op_tests/pa_v1/test_pa_v1_mtp_gpu.py \
    -k "(fp8 and not every_head_size) or sync or graph" 2>&1 | tee "$AB_L/tests.log" | tail -4
echo "$(ab_t) tests done"
for dt in bf16 fp16; do
    ab_bench "tree old old tree" --models mistral gpt-oss --ctx 16384 --windows 4096 --dtype $dt \
        --kv-dtype fp8e4m3fn fp8e4m3fnuz --flex-ctx --reps 7
done
ab_done
echo "$(ab_t) all done"
