#!/usr/bin/env bash
# 2026-11-30 (23:37 UTC session of 11-29), call 4, the session's last: the tree as committed (the warp split of
# call 1, and the dispatch's warp-split rule: one-token calls at GQA >= 4 on the matrix-core kernel where the
# warp split serves them, spec.MMA_WARP_KV_MIN_GQA), issue 8's table with its peers in one run (FlashInfer 0.7.4,
# vLLM 0.33's Triton attention), then the pa_v1 GPU, matrix-core and multi-token GPU tests, bounded by what is
# left of the session's device time.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30d.sh   carry: .peers.  Logs: $OUT/call_30d.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_30d; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
OUT=$L/peers timeout -k 10 250 bash op_tests/run_gpu_suite.sh peers --reps 7 2>&1 | tail -42
echo "[+$((SECONDS - t0))s] peers done"
OUT=$L/check CHECK_TIMEOUT=$((520 - SECONDS + t0)) timeout -k 10 $((535 - SECONDS + t0)) bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_gpu.py op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_mtp_gpu.py 2>&1 | tail -6
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_30d.tgz" -C "$L" .
