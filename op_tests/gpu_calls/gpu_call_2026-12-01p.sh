#!/usr/bin/env bash
# 2026-12-01 (05:02 UTC session), call 4, on 8d6e5cb with gpu_call_2026-12-01o_cluster14.patch applied and, in its
# spec.py, MMA_CLUSTER_MAX_PARTITIONS = 16 and MMA_CLUSTER_LAUNCH_SMEM = 0 (call 1's cluster merge). On the warm machine
# of call 3 the "tree" pre-build found call 3's kernels of the same names in /tmp/kernels_tree and kept them: its rows
# ran call 3's configuration (13 x 320 keys, one workgroup per SM), as split_study's LAUNCHED flag shows. Why is its partition kernel
# 15.3 us at batch 1? Variants: "tree" (as call 1); "nopdl" (gpu_call_2026-12-01p_nopdl.patch: the cluster launch
# without the programmatic-serialization attribute); "nocl" (gpu_call_2026-12-01p_nocl.patch: the same 8-warp
# workgroups and 16 x 256-key split, launched without clusters, writing partials that the reduce merges); and the
# cluster merge off (AITER_SWA_PA_CLUSTER=0: the 4-warp spec, 32 x 128 keys, as 8d6e5cb). Batch 1's split study,
# alternating, two rounds.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01p.sh   carry: none   Logs: $OUT/call_p.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
source op_tests/gpu_calls/ab.sh
OUT=$O ab_init call_p
ab_variant_patch nopdl . op_tests/gpu_calls/gpu_call_2026-12-01p_nopdl.patch || exit 1
ab_variant_patch nocl . op_tests/gpu_calls/gpu_call_2026-12-01p_nocl.patch || exit 1
for v in tree nopdl nocl; do
  ab_build $v --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 \
      --mma-rows 16 --sliding-window on
done
ROWS=(--rows "mistral B1 32K w4096" "gpt-oss B1 32K w4096" --caps 0 --no-vector)
for round in 1 2; do
  AITER_SWA_PA_CLUSTER=1 ab_split "tree nopdl nocl" "${ROWS[@]}"
  AITER_SWA_PA_CLUSTER=0 ab_split "tree" "${ROWS[@]}"
done
ab_done
