#!/usr/bin/env bash
# 2026-12-03 (10:09 UTC session), call 2: the matrix-core kernel's fp8 K/V stored as fp16 without the round trip
# through fp32 (vec.h convert8_f16: the fp16 bits of e4m3x2_to_f16x2 directly, a NaN code patched to 0x7e00). Before
# ("oldconv", gpu_call_2026-12-03e_oldconv.patch, the tree's csrc with the change undone): convert8 to fp32, then
# cvt.rn.f16x2.f32. Why: with an fp16 query and an E4M3 FNUZ cache, head 64 x 16 rows, sm_90 ptxas spilled 8
# bytes (128 registers); now 124, no spill. The bf16 path is unchanged. (1) the GPU tests of the fp8 path on the
# matrix-core kernel (all 256 codes exact through V, fp16 and bf16 queries; the fp16 mixed-length fp8 grid; the
# vector kernel's exact-decode test), (2) the benchmark's fp16 rows with fp8 caches (Mistral and gpt-oss, window
# 4096, both fp8 formats), rounds tree oldconv oldconv tree. Prediction: no row slower (fewer instructions per
# stored element: the fp32 round trip was 8 conversions and 4 packs per 8 elements).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-03e.sh   Logs: $OUT/call_fp8conv.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_fp8conv
ab_variant_patch oldconv . op_tests/gpu_calls/gpu_call_2026-12-03e_oldconv.patch || exit 1
FP8K=(--q-dtype fp16 --kv-dtype fp8e4m3fn,fp8e4m3fnuz --out-dtype fp16 --soft-cap off --alibi off --head-size 64,128
      --gqa 1 --mma-rows 16,32 --sliding-window on)
for v in tree oldconv; do ab_build $v "${FP8K[@]}"; done
# the tests' other kernels pre-built too (head 256 with no window: the codes tests, both kernels; the fp8 grid's
# fp16 head 128 x 32 rows with window, soft cap and ALiBi), so that no test compiles
ab_use tree
PB=(python3 -m aiter_swa.jit.prebuild --arch "$AB_ARCH" --op pa_v1 --jobs 16 --out /tmp/kernels_tree
    --kv-dtype fp8e4m3fn,fp8e4m3fnuz --gqa 1)
"${PB[@]}" --q-dtype fp16,bf16 --out-dtype fp16,bf16 --head-size 256 --mma-rows 0,16 --sliding-window off \
    --soft-cap off --alibi off >"$AB_L/prebuild_tests.log" 2>&1
"${PB[@]}" --q-dtype fp16 --out-dtype fp16 --head-size 128 --mma-rows 32 --sliding-window on --soft-cap on \
    --alibi on >>"$AB_L/prebuild_tests.log" 2>&1
echo "$(ab_t) tests' kernels: $(grep -E "kernels ready" "$AB_L/prebuild_tests.log" | tr '\n' ' ')"
AITER_SWA_PREBUILT_DIR=/tmp/kernels_tree timeout -k 5 240 python3 -m pytest -q -p no:cacheprovider \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_swa.py \
    -k "fp8_codes_exact or (cu_query_lens_flags and (fn or fnuz)) or fp8_decode_is_bit_exact" 2>&1 \
    | tee "$AB_L/tests.log" | tail -4
echo "$(ab_t) tests done"
ab_bench "tree oldconv oldconv tree" --models mistral gpt-oss --ctx 16384 --windows 4096 --dtype fp16 \
    --kv-dtype fp8e4m3fn fp8e4m3fnuz --flex-ctx --reps 7
ab_done
echo "$(ab_t) all done"
