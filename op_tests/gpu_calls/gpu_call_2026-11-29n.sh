#!/usr/bin/env bash
# Session of 2026-11-29 14:39 UTC, call 5 (about 4 minutes on a fresh H200; docs/results.md): causal_conv1d's
# benchmark with the channel-first blocks in channel-group-fastest order (the grid unchanged, its (x, y) read
# as one linear index; call 4 tried it channel-last: slower): the seed's batch, the long prefill in both
# layouts, the 128-byte-row control; then causal_conv1d's GPU and op tests.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29n.sh    carry: [".peers"]
# Logs: $OUT/conv1d.tgz, $OUT/check.tgz; stdout a summary.
set -uo pipefail
O=${OUT:-gpu_logs}
mkdir -p "$O"
O=$(cd "$O" && pwd)
L=/tmp/call_n
rm -rf "$L"
mkdir -p "$L"
OUT=$L/conv1d CONV1D_STEPS=bench CONV1D_CF_VARIANTS="cf_fast=0" timeout -k 10 "${CONV1D_LIMIT:-200}" \
    bash op_tests/run_gpu_suite.sh conv1d --iters 300 2>&1 \
    | grep -E "^impl|^aiter_swa|^triton|MET|MISSED|device NVIDIA|conv1d:|long prefill" | grep -v "seed's 95 us: MISSED" | head -40
tar czf "$O/conv1d.tgz" -C "$L" conv1d
# then causal_conv1d's GPU tests (every dtype, width, layout; the variants bit for bit against the default)
OUT=$L/check CHECK_TIMEOUT=150 timeout -k 10 170 bash op_tests/run_gpu_suite.sh check \
    op_tests/causal_conv1d/test_causal_conv1d_gpu.py op_tests/causal_conv1d/test_causal_conv1d.py 2>&1 | tail -6
tar czf "$O/check.tgz" -C "$L" check
