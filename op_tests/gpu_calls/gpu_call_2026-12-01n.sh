#!/usr/bin/env bash
# 2026-12-01 (05:02 UTC session), call 2, on 8d6e5cb with gpu_call_2026-12-01m_cluster.patch applied (the cluster
# merge, spec mma_cluster; not kept). (1) The cluster merge at batch 1 with clusters of 16, 8 and 4 partitions (split_study's workspace
# caps): does the partition kernel's time follow the cluster size? (2) A-B of the matrix-core reduce loading every
# partition's maximum and exp sum itself, in registers, with no shared memory or barrier
# (gpu_call_2026-12-01n_direct.patch: lse_merge_direct), against the tree's (lse_merge_block), the cluster merge
# off (AITER_SWA_PA_CLUSTER=0: the 4-warp spec, its workspace and reduce), three alternating rounds of batch 1's
# split study; then GPU tests on the variant.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01n.sh   carry: none   Logs: $OUT/call_n.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
source op_tests/gpu_calls/ab.sh
OUT=$O ab_init call_n
ab_variant_patch direct . op_tests/gpu_calls/gpu_call_2026-12-01n_direct.patch || exit 1
for v in tree direct; do
  ab_build $v --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 \
      --mma-rows 16 --sliding-window on
done
AITER_SWA_PA_CLUSTER=1 ab_split "tree" --rows "mistral B1 32K w4096" --caps 16 8 4 --no-vector
export AITER_SWA_PA_CLUSTER=0
ab_split "tree direct tree direct tree direct" --rows "mistral B1 32K w4096" "gpt-oss B1 32K w4096" --caps 0 --no-vector
ab_tests direct op_tests/pa_v1/test_pa_v1_mma_gpu.py -k "batch_one or graph_replay or cu_query_lens or g4-mtp2 or g16-mtp8"
ab_done
