#!/usr/bin/env bash
# 2026-12-01 (21:46 UTC session), call 1, on the final tree (dba4f71: ffdf925's kernels, dispatch and JIT): the
# one-token, matrix-core, multi-token and robustness GPU test files, every kernel compiled on first use into a fresh
# cache (so through the JIT's cache key and the pre-build's header reading of ffdf925, which no GPU had run).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01v.sh   carry: none   Logs: $OUT/check
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O/check"; O=$(cd "$O" && pwd)
t0=$SECONDS
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache_v
OUT=$O/check CHECK_TIMEOUT=520 timeout -k 10 530 bash op_tests/run_gpu_suite.sh check op_tests/pa_v1/test_pa_v1_gpu.py \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_mtp_gpu.py op_tests/pa_v1/test_pa_v1_robustness.py \
    2>&1 | tail -8
echo "[+$((SECONDS - t0))s] all done"
