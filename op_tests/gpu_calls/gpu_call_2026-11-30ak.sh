#!/usr/bin/env bash
# 2026-11-30 (19:11 UTC session), call 2: the reduce kernel as a programmatic dependent launch of the partition
# kernel on sm_90 (compat.h launch_dependent / grid_dependency_wait / allow_dependent_launch; spec.py
# programmatic_launch), against the same tree with it off ("nopdl": programmatic_launch returns False), A-B in
# 3 rounds of issue 8's rows with the kernel each row's dispatch picks (batch 1: 32 partitions, the seed shape 8,
# no window 2, Gemma-3's vector kernel 4; Mistral B32 and gpt-oss window 128: one partition, no reduce, so
# unchanged); then the GPU test files of both kernels on the tree (graph replay included).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30ak.sh   Logs: $OUT/call_pdl.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_pdl
ab_variant_spec_edit nopdl "    return _sm(arch) >= 90" "    return False" || exit 1
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off)
for v in tree nopdl; do
    ab_build $v "${B[@]}" --head-size 64,128 --gqa 1 --mma-rows 16,32
    ab_build $v "${B[@]}" --head-size 256 --gqa 2 --mma-rows 0 --sliding-window on
done
ROWS=("mistral B32 16K w4096" "mistral B1 32K w4096" "gpt-oss B64 16K w128" "gpt-oss B64 16K w4096"
      "gemma3 B16 16K w1024" "seed B8 9216 w8192" "mistral B32 16K off" "mistral B32 16K w4096 mtp4")
ab_bench "tree nopdl tree nopdl tree nopdl" --issue8 --no-peers --reps 5 --rows "${ROWS[@]}"
ab_use tree
OUT=$AB_L/check CHECK_TIMEOUT=230 timeout -k 10 240 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_mtp_gpu.py 2>&1 | tail -4
ab_done
