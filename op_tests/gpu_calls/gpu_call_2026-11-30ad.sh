#!/usr/bin/env bash
# 2026-11-30 (16:17 UTC session), call 1 (16:19 UTC; prepared by the 13:00 UTC session as gpu_call_next_prologue.sh)
# on 1bb20bc, 527 s; both patches kept (the tree has them since the commit after 1bb20bc, so they no longer apply to it):
# two small cuts of the warp split's fixed part, A-B against the tree, for the rows whose <= 10 us targets are
# still missed or borderline (batch 1 12.2-13.0 us; gpt-oss window 128 9.6-10.1).
#   "div" (gpu_call_2026-11-30ad_div.patch): the prologue's run-time divisions by the GQA ratio (a query row's
#     token and head: 4 of them) and by the block size (the block-id check's range) made by host-made
#     multiply-shift dividers (paged_kv.h BlockDivider, PaParams gqa_div), about 100 of the ~460 sm_90
#     instructions per warp before the set-up's barrier at window 128 (Nsight Compute's source view: that
#     set-up held 26% of the stall samples);
#   "lds" (that patch, then gpu_call_2026-11-30ad_lds.patch): also the write's reads of the key groups' O in a
#     lane-dependent order, so that each LDS.128 covers 32 banks (the 2-way conflicts Nsight Compute found:
#     32768 excess wavefronts of 522240 at window 128).
# Both checked on the CPU (the two patches applied): the matrix-core and vector emulator tests 115 passed; sm_90 SASS
# (sass_counts.py) head 128 x 16 rows 2193 -> 2048 instructions, the set-up's barrier at 948 -> 788 (64 x 16: 2099
# -> 1982, 861 -> 729), the write loop 169 -> 184 (the swap), registers the same; gfx942/gfx90a: the 96 matrix-core
# specs zero scratch and spills, the same VGPRs and occupancy, SGPRs +2 in 38 of them (at most 96).
# Rounds div, lds, tree x 3 of the rows below, per-kernel times, then the matrix-core, multi-token and robustness
# GPU tests on "lds". No carry. Logs: $OUT/call_prologue.tgz (~7 min)
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30ad.sh (on 1bb20bc)
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_prologue
ab_variant_patch div . op_tests/gpu_calls/gpu_call_2026-11-30ad_div.patch || exit 1
ab_variant_patch lds /tmp/ab_patch_div op_tests/gpu_calls/gpu_call_2026-11-30ad_lds.patch || exit 1
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16,32)
for v in div lds tree; do ab_build $v "${B[@]}"; done
ROWS=("mistral B1 32K w4096" "gpt-oss B64 16K w128" "gpt-oss B64 16K w128 mtp4" "seed B8 9216 w8192"
      "mistral B32 16K w4096" "gpt-oss B64 16K w4096")
ab_bench "div lds tree div lds tree div lds tree" --issue8 --no-peers --reps 5 --kernel mma --rows "${ROWS[@]}"
ab_kernel_times "div lds tree" --calls 100 --workspace aiter --shapes "gpt-oss w128" "mistral B1 w4096"
ab_use lds
OUT=/tmp/call_prologue/check CHECK_TIMEOUT=200 timeout -k 10 210 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_mtp_gpu.py op_tests/pa_v1/test_pa_v1_robustness.py 2>&1 | tail -4
ab_done
