#!/usr/bin/env bash
# 2026-11-30 (10:30 UTC session), call 6: the matrix-core partition kernel's prologue with its global loads issued
# together ("new": the query rows into registers before the context length's load, stored into shared memory just
# before the barrier; the first tiles' block-table entries all loaded before any is published, then the block-id
# check). The sm_90 SASS before it: about 7 dependent global round trips before the first key tile's copies (the
# query's 2 loads each followed by its store, the block-id check, each of the first 3 tiles' entries followed by
# its publish); after: the query with the context length, then the entries and the check together. Call 2's
# Nsight pass put batch 1's partition kernel at 12.96 us with 3.4 thousand instructions per warp.
# A-B against the tree (7d69139's csrc/include, carried as .ab_old): rounds new, old, new, old over the rows that
# split (batch 1, the seed shape, Mistral B32) and others; per-kernel times; then the GPU tests that the merge v2
# call ran (graph replay, batch 1's split, the multi-token grid at head 128 with GQA 4 and 8) on "new".
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30y.sh   carry: .ab_old.  Logs: $OUT/call_30y.tgz (~4 min)
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_30y
ab_variant new .
ab_variant old .ab_old
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16)
for v in new old; do ab_build $v "${B[@]}"; done
ROWS=("mistral B1 32K w4096" "seed B8 9216 w8192" "mistral B32 16K w4096" "gpt-oss B64 16K w128"
      "gpt-oss B64 16K w4096" "mistral B32 16K off")
ab_bench "new old new old" --issue8 --no-peers --reps 5 --kernel mma --rows "${ROWS[@]}"
ab_kernel_times "new old" --calls 100 --workspace aiter --shapes "mistral B1 w4096" "mistral w4096" "seed w8192"
ab_tests new op_tests/pa_v1/test_pa_v1_mma_gpu.py \
    -k "graph_replay or batch_one or (mtp_grid and hs128 and (g4 or g8) and not mtp8)"
ab_done
