#!/usr/bin/env bash
# 2026-11-30 (07:28 UTC session), call 3: Mistral batch 32's split. Call 2 (gpu_call_2026-11-30q.sh) timed the
# reduce kernel at 3.5-4.0 us of the 133.5 us per call (2 partitions of 2048 keys per (sequence, KV head), 1024
# reduce workgroups). One partition (256 workgroups, half a wave of 4 per SM, no reduce) against 2, 3 and 4, with a
# window of 4096 and without one (split_study.py, the partition count forced through the workspace / SM count).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30r.sh   (no carry).  Logs: $OUT/call_30r.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_30r; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
OUT=$L/split SPLIT_TIMEOUT=240 timeout -k 10 330 bash op_tests/run_gpu_suite.sh split \
    --rows "mistral B32 16K w4096" "mistral B32 16K off" --caps 1 2 3 4 2>&1 | grep -vE "UserWarning|_warn_once"
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_30r.tgz" -C "$L" .
