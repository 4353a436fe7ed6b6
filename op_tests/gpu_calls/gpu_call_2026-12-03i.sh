#!/usr/bin/env bash
# 2026-12-03 (12:27 UTC session), call 2, on this session's tree: (a) the warp split's long form (spec.py
# mma_long_form: call 1's "kt64", 64-key tiles over 4 warps at 2 workgroups per SM, held beside the 32-key form in
# the same module; the launcher runs it per call when its split's partitions hold >= 1024 keys, split.h
# split_for), (b) vec.h convert8's fp8 branch folded onto convert8_f16. Variants: "nolong" (spec.py
# MMA_LONG_SHAPES = (): exactly the kernels and split before (a)), "unfold" (gpu_call_2026-12-03h_unfold.patch:
# the csrc before (b)). Steps: (1) GPU tests on the tree: the long form (fp16/bf16, windows, mtp 4 with mixed
# query lengths, sinks, soft cap, with and without the reduce), the fp8 tests the fold touches (all 256 codes
# through the matrix-core kernel, fp16/bf16 queries; the vector kernel's exact decode), sync-debug "error" and
# graph replay (test_pa_v1_gpu.py, the matrix-core and multi-token no-sync tests); (2) issue 8's table with
# FlashInfer and vLLM (tree); (3) the head-128 rows, rounds tree nolong nolong tree; (4) the bf16 fp8 rows, rounds
# tree unfold unfold tree. Prediction: tests pass; (2) the no-window row <= FlashInfer; (3) as call 1 (kt64 vs
# tree) with batch 1 level (the long form is not taken there); (4) level.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-03i.sh   carry: .peers   Logs: $OUT/call_long.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_long
ab_variant_spec_edit nolong "MMA_LONG_SHAPES = ((128, 16),)" "MMA_LONG_SHAPES = ()" || exit 1
ab_variant_patch unfold . op_tests/gpu_calls/gpu_call_2026-12-03h_unfold.patch || exit 1
source op_tests/pa_v1/peers_env.sh
peers_install "$AB_L/install_peers.log" &
B=(--soft-cap off --alibi off)
FP8=(--q-dtype bf16 --kv-dtype fp8e4m3fn,fp8e4m3fnuz --out-dtype bf16 "${B[@]}" --sliding-window on)
ab_build tree --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 "${B[@]}" --head-size 64,128,256 --gqa 2,4,8 \
    --mma-rows 0
ab_build tree --q-dtype bf16,fp16 --kv-dtype bf16,fp16 --out-dtype bf16,fp16 --soft-cap off,on --alibi off \
    --head-size 64,128,256 --gqa 1 --mma-rows 16,32
ab_build tree "${FP8[@]}" --head-size 128 --gqa 4 --mma-rows 0
ab_build tree "${FP8[@]}" --head-size 64 --gqa 1 --mma-rows 16
ab_build nolong --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 "${B[@]}" --head-size 128 --gqa 1 --mma-rows 16
ab_build unfold "${FP8[@]}" --head-size 128 --gqa 4 --mma-rows 0
ab_build unfold "${FP8[@]}" --head-size 64 --gqa 1 --mma-rows 16
wait
ab_use tree
echo "== tests $(ab_t)"
AITER_SWA_PREBUILT_DIR=/tmp/kernels_tree timeout -k 5 200 python3 -m pytest -q -p no:cacheprovider -n 8 \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_gpu.py op_tests/pa_v1/test_pa_v1_mtp_gpu.py \
    op_tests/pa_v1/test_pa_v1_swa.py \
    -k "long_form or fp8_codes_exact or fp8_decode_is_bit_exact or no_sync or no_host or graph" 2>&1 \
    | tee "$AB_L/tests.log" | tail -4
echo "$(ab_t) tests done"
peers_env
ab_each tree "peers " bench_peers 240 op_tests/pa_v1/bench_pa_v1_swa.py "^(mistral|gpt-oss|seed|gemma3)|^# copy|MISMATCH|rror" \
    --issue8 --reps 5
ROWS=("mistral B32 16K off" "mistral B32 16K w4096" "mistral B32 128K w4096" "mistral B1 32K w4096"
      "seed B8 9216 w8192" "mistral B32 16K w4096 mtp2" "mistral B32 16K w4096 mtp4")
ab_bench "tree nolong nolong tree" --issue8 --no-peers --reps 5 --rows "${ROWS[@]}"
ab_bench "tree unfold unfold tree" --models mistral gpt-oss --ctx 16384 --windows 4096 --dtype bf16 \
    --kv-dtype fp8e4m3fn fp8e4m3fnuz --flex-ctx --reps 7
ab_done
echo "$(ab_t) all done"
