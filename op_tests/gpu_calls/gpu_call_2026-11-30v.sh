#!/usr/bin/env bash
# 2026-11-30 (10:30 UTC session), call 1 (10:31 UTC; prepared by the 07:28 UTC session as gpu_call_next_merge2.sh):
# the in-kernel merge v2 against the reduce kernel. Not kept: batch 1 18.6-18.9 us against 14.3-14.7, the seed shape
# 49.0-49.8 against 46.4-46.8, Mistral batch 32 and gpt-oss w4096 the same within the rounds' spread (docs/results.md).
# What it was (prepared in the session of 2026-11-30 07:28 UTC): the in-kernel merge again, rewritten after
# calls 5 and 6 of that session measured the first version 2-3.5x slower than the reduce kernel (its merging
# workgroup: a chain of dependent steps, 16 rounds of loads at batch 1, a shared-memory weights loop on one bank, and
# the warp split's loop 430 -> 450 sm_90 instructions at head 128 with it inlined). This version
# (gpu_call_2026-11-30v.patch): thread 0 reads the partition count with its acquire-release count; one thread per 8
# elements of a row loads the maxima, exp sums and 16-byte partial vectors of 8 partitions at once (one round trip
# per 8 partitions, online over the batches as lse.h), no shared memory, no barrier; only the rows that exist. The
# loop: 434 instructions at head 128 x 16 rows, 400 at head 64, 378 at 128 x 32 (430, 403, 378 without the merge).
# Checked on the CPU: the emulator's matrix-core tests (84, with test_emulated_merge_in_kernel: garbage bytes in the
# buffer, an empty context, a 0 query length, sinks; the fallbacks to the reduce kernel), the 64 sm_90 warp-split
# specs (120-128 registers, zero spills) and 96 gfx942/gfx90a matrix-core specs (zero scratch and spills; AMD keeps
# the reduce kernel: MmaSpec::MERGE is the warp split's). A-B against the tree (the reduce kernel), per-kernel
# times, then the split tests and multi-token grid at head 128 on the merge. If batch 1 (32 partitions, 4 batches
# of loads) loses while the rest gain, kMergeMaxParts = 16 leaves it on the reduce kernel.
# Apply first: git apply op_tests/gpu_calls/gpu_call_2026-11-30v.patch (on 7d69139); then .ab_old = the tree's csrc/include
# before it: rm -rf .ab_old && mkdir .ab_old && git archive HEAD csrc/include | tar -x -C .ab_old
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30v.sh   carry: .ab_old.  Logs: $OUT/call_next_merge2.tgz (~5 min)
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_next_merge2
ab_variant merge .
ab_variant reduce .ab_old
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16)
for v in merge reduce; do ab_build $v "${B[@]}"; done
ROWS=("mistral B32 16K w4096" "mistral B32 128K w4096" "mistral B1 32K w4096" "seed B8 9216 w8192"
      "mistral B32 16K off" "gpt-oss B64 16K w4096")
ab_bench "merge reduce merge reduce merge reduce" --issue8 --no-peers --reps 5 --kernel mma --rows "${ROWS[@]}"
ab_kernel_times "merge reduce" --calls 100 --workspace aiter --shapes "mistral B1 w4096" "mistral w4096" "seed w8192"
ab_tests merge op_tests/pa_v1/test_pa_v1_mma_gpu.py \
    -k "graph_replay or batch_one or (mtp_grid and hs128 and (g4 or g8) and not mtp8)"
ab_done
