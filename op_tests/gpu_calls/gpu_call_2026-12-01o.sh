#!/usr/bin/env bash
# 2026-12-01 (05:02 UTC session), call 3, on 8d6e5cb with gpu_call_2026-12-01o_cluster14.patch applied (the cluster
# merge of call 1, with at most 14 partitions per cluster and a launch that asks for 120 KB of dynamic shared memory,
# so that one workgroup fits per SM and a cluster spreads over as many SMs as it has workgroups). Batch 1's split
# study, variants by spec.py edits: "tree" (14 partitions at most, one workgroup per SM: 13 x 320 keys at Mistral),
# "c16one" (16, one per SM), "c16" (16, as call 1), and the cluster merge off (AITER_SWA_PA_CLUSTER=0: the 4-warp
# spec with its reduce, as 8d6e5cb), alternating.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01o.sh   carry: none   Logs: $OUT/call_o.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
source op_tests/gpu_calls/ab.sh
OUT=$O ab_init call_o
ab_variant_spec_edit c16one "MMA_CLUSTER_MAX_PARTITIONS = 14" "MMA_CLUSTER_MAX_PARTITIONS = 16" || exit 1
ab_variant_spec_edit c16 "MMA_CLUSTER_MAX_PARTITIONS = 14" "MMA_CLUSTER_MAX_PARTITIONS = 16" \
    "MMA_CLUSTER_LAUNCH_SMEM = 120 * 1024" "MMA_CLUSTER_LAUNCH_SMEM = 0" || exit 1
for v in tree c16one c16; do
  ab_build $v --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 \
      --mma-rows 16 --sliding-window on
done
ROWS=(--rows "mistral B1 32K w4096" "gpt-oss B1 32K w4096" --caps 0 --no-vector)
for round in 1 2; do
  AITER_SWA_PA_CLUSTER=1 ab_split "tree c16one c16" "${ROWS[@]}"
  AITER_SWA_PA_CLUSTER=0 ab_split "tree" "${ROWS[@]}"
done
AITER_SWA_PA_CLUSTER=1 ab_split "tree" "${ROWS[@]}"
AITER_SWA_PA_CLUSTER=1 ab_tests tree op_tests/pa_v1/test_pa_v1_mma_gpu.py -k "cluster or batch_one"
ab_done
