#!/usr/bin/env bash
# 2026-12-03 (06:12 UTC session), call 1: the reduce's merge without workgroup barriers (lse.h lse_merge). Each
# 32-lane segment loads the chunk's 32 maxima and exp sums itself (lane l: partition l), shares them through its own
# 32 floats of shared memory under a wavefront barrier, takes the maximum as a tree of 8 broadcast 16-byte reads, and
# sums the weighted partials in 4 interleaved chains; the reduce workgroup is the head size rounded up to whole
# 32-lane segments. Before ("old", gpu_call_2026-12-03a_oldreduce.patch, the tree's csrc with that change undone):
# the chunk's maxima and weights shared across the workgroup, a barrier after each, a 32-step chain for the maximum and
# for the sums. sm_90 SASS of the batch-1 reduce after the loads: about 250 cycles of dependent work instead of about
# 500 (sass_counts.py). Prediction: batch 1 (32 partitions, the reduce on the critical path) about 0.1 µs faster, the
# seed shape (8) and Gemma-3 (4, the vector kernel) less, the no-window row (2) and the rows without a reduce
# unchanged. Then the new reduce's GPU tests (many partitions on both kernels; batch 1; graph replay).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-03a.sh   Logs: $OUT/call_lse.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_lse
ab_variant_patch old . op_tests/gpu_calls/gpu_call_2026-12-03a_oldreduce.patch || exit 1
GEMMA=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 256 --gqa 2
       --mma-rows 0 --sliding-window on)
for v in tree old; do ab_build $v; ab_build $v "${GEMMA[@]}"; done
ROWS=("mistral B1 32K w4096" "seed B8 9216 w8192" "gemma3 B16 16K w1024" "mistral B32 16K off"
      "mistral B32 16K w4096" "gpt-oss B64 16K w128")
ab_bench "tree old old tree tree old old tree" --issue8 --no-peers --reps 7 --rows "${ROWS[@]}"
N=(); python3 -c "import xdist" 2>/dev/null && N=(-n 8)  # the tests' kernels compile on 8 workers where it can
ab_tests tree "${N[@]}" op_tests/pa_v1/test_pa_v1_mma_gpu.py \
    -k "many_partitions or graph_replay or batch_one or (mtp_grid and hs128 and (g4 or g8) and not mtp8)"
ab_done
echo "$(ab_t) all done"
