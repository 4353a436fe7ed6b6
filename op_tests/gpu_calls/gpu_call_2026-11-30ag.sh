#!/usr/bin/env bash
# 2026-11-30 (16:17 UTC session), call 4 (16:35 UTC; 301 s, no carry): the split's one-wave rule (gpu.py mma_split,
# split.h: the fewest partitions that fit one wave with >= 0.9 x 2 workgroups per SM, each partition's K/V at
# most MMA_MAX_WAVE_PARTITION_BYTES = 3 MiB) against the rule before it ("old": the same tree with that bound at
# -1, so that the one-wave rule never applies), A-B in 3 rounds of issue 8's rows whose split it changes
# (Mistral B32 at window 4096, 16K and 128K, mtp 2 and 4: 2 partitions -> 1; batch 1: 32 -> 32; the seed shape
# 15 -> 8) and one it leaves (no window: 2), per-kernel times, then the matrix-core GPU tests on the new rule
# (they stopped at their 150 s budget: 166 of 214 passed, none failed; call 5 ran both files whole).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30ag.sh   Logs: $OUT/call_wave.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_wave
ab_variant_spec_edit old "MMA_MAX_WAVE_PARTITION_BYTES = 3 << 20" "MMA_MAX_WAVE_PARTITION_BYTES = -1" || exit 1
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 128 --gqa 1 --mma-rows 16,32)
for v in tree old; do ab_build $v "${B[@]}"; done
ROWS=("mistral B32 16K w4096" "mistral B32 128K w4096" "mistral B1 32K w4096" "seed B8 9216 w8192"
      "mistral B32 16K w4096 mtp2" "mistral B32 16K w4096 mtp4" "mistral B32 16K off")
ab_bench "tree old tree old tree old" --issue8 --no-peers --reps 5 --kernel mma --rows "${ROWS[@]}"
ab_kernel_times "tree old" --calls 100 --workspace aiter --shapes "mistral w4096" "seed w8192"
ab_use tree
OUT=/tmp/call_wave/check CHECK_TIMEOUT=150 timeout -k 10 160 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_mtp_gpu.py 2>&1 | tail -4
ab_done
