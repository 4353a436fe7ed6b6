#!/usr/bin/env bash
# Session of 2026-11-29 09:31 UTC, call 2 (about 7 minutes on a fresh H200; docs/results.md):
#   1. causal_conv1d with cf_fast=1 as the channel-first default (issue 12): run_gpu_suite.sh conv1d (its
#      benchmark: the seed's batch with the Triton peer, the long prefill in both layouts with the tuning
#      variants cf_rows=2 / cf_fast=0, the 128-byte-row control; then every conv1d GPU test, JIT off);
#   2. issue 8's split study: run_gpu_suite.sh split (op_tests/pa_v1/split_study.py).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29c.sh    carry: [".peers", ".whl"]
# Logs: $OUT/conv1d.tgz and $OUT/split.tgz (each step's log folder); stdout a summary.
set -uo pipefail
O=${OUT:-gpu_logs}
mkdir -p "$O"
O=$(cd "$O" && pwd)
L=/tmp/call_c
rm -rf "$L"
mkdir -p "$L"
t0=$SECONDS
OUT=$L/conv1d timeout -k 10 "${CONV1D_LIMIT:-330}" bash op_tests/run_gpu_suite.sh conv1d --iters 300 2>&1 \
    | grep -E "^impl|^aiter_swa|^triton|MET|MISSED|device NVIDIA|passed|failed|FAILED|ERROR|conv1d:" | head -70
echo "[+$((SECONDS - t0))s] conv1d done"
tar czf "$O/conv1d.tgz" -C "$L" conv1d
OUT=$L/split SPLIT_TIMEOUT=${SPLIT_TIMEOUT:-200} timeout -k 10 "${SPLIT_LIMIT:-250}" bash op_tests/run_gpu_suite.sh split 2>&1 | tail -70
echo "[+$((SECONDS - t0))s] split done"
tar czf "$O/split.tgz" -C "$L" split
