#!/usr/bin/env bash
# 2026-12-01 (05:02 UTC session), call 5, on the session's final tree (29c996b: 8d6e5cb's kernels and dispatch, the JIT
# cache key and the pre-build's check over the rendered values): the one-token, matrix-core and robustness GPU test
# files (kernels compiled on first use into a fresh cache, so every kernel is keyed the new way), then batch 1's split
# study once.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01q.sh   carry: none   Logs: $OUT/check, $OUT/split.log
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O/check"; O=$(cd "$O" && pwd)
t0=$SECONDS
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache_q
OUT=$O/check CHECK_TIMEOUT=330 timeout -k 10 340 bash op_tests/run_gpu_suite.sh check op_tests/pa_v1/test_pa_v1_gpu.py \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_robustness.py 2>&1 | tail -6
echo "[+$((SECONDS - t0))s] tests done"
timeout -k 5 90 python3 op_tests/pa_v1/split_study.py --rows "mistral B1 32K w4096" "gpt-oss B1 32K w4096" --caps 0 \
    --no-vector >"$O/split.log" 2>&1; grep -E "^mma|summary" "$O/split.log"
echo "[+$((SECONDS - t0))s] all done"
