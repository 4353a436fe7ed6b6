#!/usr/bin/env bash
# 2026-11-30 (07:28 UTC session), call 5: the merge of the partitions by the last workgroup of each (sequence, KV
# head, chunk) instead of the reduce kernel (mma_kernel.h merge_partitions; launch_mma zeroes one counter each
# with a memset before the partition kernel, where the caller's buffer has room after the partials), against the
# tree before ("reduce": HEAD's csrc/include, .ab_old). Calls 2-4 put the reduce kernel at 3.5-4.0 us of Mistral
# batch 32's 133.5 us, 2.1-2.6 at batch 1, 2.7-2.9 at the seed shape; its partition kernel alone matched
# FlashInfer's whole call. Rounds merge, reduce x3; per-kernel times; GPU tests of split calls and graph replay.
# Not kept (2-3.5x slower). The tree it ran: gpu_call_2026-11-30u.patch with, in the partition kernel's count,
# `__threadfence(); __syncthreads(); if (tid == 0) s_lo[0] = atomicAdd(counter, 1); ...; __threadfence();` (every
# thread's fence.sc.gpu before the count and again in the merging workgroup) instead of atomic_add_acq_rel.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30t.sh   carry: .ab_old.  Logs: $OUT/call_30t.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_30t
ab_variant merge .
ab_variant reduce .ab_old
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16)
for v in merge reduce; do ab_build $v "${B[@]}"; done
ROWS=("mistral B32 16K w4096" "mistral B32 128K w4096" "mistral B1 32K w4096" "seed B8 9216 w8192"
      "mistral B32 16K off" "gpt-oss B64 16K w128" "gpt-oss B64 16K w4096")
ab_bench "merge reduce merge reduce merge reduce" --issue8 --no-peers --reps 5 --kernel mma --rows "${ROWS[@]}"
ab_kernel_times "merge reduce" --calls 100 --workspace aiter --shapes "mistral B1 w4096" "mistral w4096" "seed w8192"
ab_tests merge op_tests/pa_v1/test_pa_v1_mma_gpu.py \
    -k "graph_replay or batch_one or (mtp_grid and hs128 and (g4 or g8) and not mtp8)"
ab_done
