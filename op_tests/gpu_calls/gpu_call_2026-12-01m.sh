#!/usr/bin/env bash
# 2026-12-01 (05:02 UTC session), call 1: the cluster merge (spec.mma_cluster, sm_90: 8-warp workgroups, the
# partitions of a (sequence, KV head) merged in one thread-block cluster through distributed shared memory, no
# reduce kernel). Its GPU tests first, then batch 1's split study with the cluster merge on and off
# (AITER_SWA_PA_CLUSTER=0: the 4-warp spec with the workspace and the reduce, the tree before it), alternating.
# It ran on 8d6e5cb with gpu_call_2026-12-01m_cluster.patch applied (the cluster merge, not kept: docs/results.md,
# 2026-12-01 05:02 UTC session); to run it again, `git apply op_tests/gpu_calls/gpu_call_2026-12-01m_cluster.patch`.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01m.sh   carry: none   Logs: $OUT/check, $OUT/split_*.log
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O/check"; O=$(cd "$O" && pwd)
t0=$SECONDS
OUT=$O/check CHECK_TIMEOUT=240 timeout -k 10 250 bash op_tests/run_gpu_suite.sh check op_tests/pa_v1/test_pa_v1_mma_gpu.py \
    -k "cluster or batch_one or graph_replay or mtp_grid" 2>&1 | tail -8
echo "[+$((SECONDS - t0))s] tests done"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache PYTHONUNBUFFERED=1
for round in 1 2 3; do
  for cl in 1 0; do
    AITER_SWA_PA_CLUSTER=$cl timeout -k 5 90 python3 op_tests/pa_v1/split_study.py --rows "mistral B1 32K w4096" \
        "gpt-oss B1 32K w4096" --caps 0 --no-vector >"$O/split_cl${cl}_r$round.log" 2>&1
    echo "[+$((SECONDS - t0))s] cluster=$cl round $round"; grep -E "^\s*(mistral|gpt-oss)|default|per call" "$O/split_cl${cl}_r$round.log" | head -8
  done
done
echo "[+$((SECONDS - t0))s] all done"
