#!/usr/bin/env bash
# 2026-12-02 (12:48 UTC session), call 3, on the tree with the K/V copies' L2 evict_first policy (call 2's "ef",
# async_copy.h): the one-token, matrix-core, multi-token and robustness GPU test files, every kernel compiled on
# first use into a fresh cache; then more A-B rounds against "old" (carry .ab_old = 0833709's csrc and spec.py,
# the tree before the change) at the rows where call 2's rounds were noisy (the mtp 4 rows) and batch 1.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-02h.sh   carry: .ab_old   Logs: $OUT/check, $OUT/call_ef2.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O/check"; O=$(cd "$O" && pwd)
t0=$SECONDS
AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache_h OUT=$O/check CHECK_TIMEOUT=330 timeout -k 10 340 \
    bash op_tests/run_gpu_suite.sh check op_tests/pa_v1/test_pa_v1_gpu.py op_tests/pa_v1/test_pa_v1_mma_gpu.py \
    op_tests/pa_v1/test_pa_v1_mtp_gpu.py op_tests/pa_v1/test_pa_v1_robustness.py 2>&1 | tail -8
echo "[+$((SECONDS - t0))s] tests done"
source op_tests/gpu_calls/ab.sh
ab_init call_ef2
ab_variant old .ab_old
for v in tree old; do ab_build $v; done
ab_split "old tree tree old" --caps 0 --no-vector --rows "mistral B1 32K w4096" "gpt-oss B1 32K w4096"
ab_bench "old tree tree old" --issue8 --no-peers --reps 5 --rows "mistral B1 32K w4096" "gpt-oss B64 16K w128" \
    "mistral B32 16K w4096 mtp4" "gpt-oss B64 16K w4096 mtp4"
ab_done
echo "[+$((SECONDS - t0))s] all done"
