#!/usr/bin/env bash
# Session of 2026-11-29 14:39 UTC, call 4 (about 2 minutes on a fresh H200; docs/results.md): causal_conv1d's
# benchmark with the channel-last blocks in channel-group-fastest order (the grid unchanged, its (x, y)
# read as one linear index): the seed's batch, the long prefill in both layouts, the 128-byte-row control.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29m.sh    carry: [".peers"]
# Logs: $OUT/conv1d.tgz; stdout a summary.
set -uo pipefail
O=${OUT:-gpu_logs}
mkdir -p "$O"
O=$(cd "$O" && pwd)
L=/tmp/call_m
rm -rf "$L"
mkdir -p "$L"
OUT=$L/conv1d CONV1D_STEPS=bench CONV1D_CF_VARIANTS="cf_fast=0" timeout -k 10 "${CONV1D_LIMIT:-200}" \
    bash op_tests/run_gpu_suite.sh conv1d --iters 300 2>&1 \
    | grep -E "^impl|^aiter_swa|^triton|MET|MISSED|device NVIDIA|conv1d:|long prefill" | grep -v "seed's 95 us: MISSED" | head -40
tar czf "$O/conv1d.tgz" -C "$L" conv1d
