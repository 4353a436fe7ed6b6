#!/usr/bin/env bash
# 2026-11-30 (04:54 UTC session), call 7: batch 1's split on the current warp split (3-stage ring, ldmatrix.x4),
# which the split study last measured on the 2-stage kernel of 2026-11-29: the matrix-core kernel at 16 to 64
# partitions per (sequence, KV head) (the workspace's size forcing the count), partition and reduce kernel times
# (run_gpu_suite.sh split, op_tests/pa_v1/split_study.py), Mistral and gpt-oss at batch 1, window 4096.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30p.sh   (no carry).  Logs: $OUT/call_30p.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_30p; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
OUT=$L/split SPLIT_TIMEOUT=120 timeout -k 10 190 bash op_tests/run_gpu_suite.sh split \
    --rows "mistral B1 32K w4096" "gpt-oss B1 32K w4096" --caps 16 24 32 48 64 2>&1 | tail -30
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_30p.tgz" -C "$L" .
