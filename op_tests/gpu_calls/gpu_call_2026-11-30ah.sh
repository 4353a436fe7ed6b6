#!/usr/bin/env bash
# 2026-11-30 (16:17 UTC session), call 5 (16:41 UTC; 234 s, carry .peers): issue 8's table with FlashInfer and vLLM on the
# tree with the prologue's dividers, the write's lane-ordered LDS.128 and the split's one-wave rule; then the
# matrix-core and multi-token GPU test files on it (call 4's run of them stopped at its 150 s budget).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30ah.sh   carry: .peers   Logs: $OUT/peers, $OUT/check
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O/peers" "$O/check"; O=$(cd "$O" && pwd)
t0=$SECONDS
OUT=$O/peers timeout -k 10 250 bash op_tests/run_gpu_suite.sh peers --reps 7 2>&1 | tail -32
echo "[+$((SECONDS - t0))s] peers done"
OUT=$O/check CHECK_TIMEOUT=200 timeout -k 10 210 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_mtp_gpu.py 2>&1 | tail -3
echo "[+$((SECONDS - t0))s] done"
