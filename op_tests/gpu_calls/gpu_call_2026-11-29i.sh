#!/usr/bin/env bash
# Session of 2026-11-29 11:28 UTC, call 4 (about 6 minutes on a fresh H200; docs/results.md):
#   1. causal_conv1d with channel-first tiles on 128-byte lines (ConvSpec::CF_ALIGN; spec.CF_LINE_BYTES):
#      run_gpu_suite.sh conv1d, benchmark only (seed batch with the Triton peer, the long prefill in both
#      layouts, the 128-byte-row control);
#   2. issue 8's rows with the peers in the same run (run_gpu_suite.sh peers), after the warp split
#      (one barrier per tile) and its 16-row chunks up to 32 rows.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29i.sh    carry: [".peers"]
# Logs: $OUT/conv1d.tgz, $OUT/peers.tgz; stdout a summary.
set -uo pipefail
O=${OUT:-gpu_logs}
mkdir -p "$O"
O=$(cd "$O" && pwd)
L=/tmp/call_i
rm -rf "$L"
mkdir -p "$L"
t0=$SECONDS
OUT=$L/conv1d CONV1D_STEPS=bench CONV1D_CF_VARIANTS="cf_fast=0" timeout -k 10 "${CONV1D_LIMIT:-200}" \
    bash op_tests/run_gpu_suite.sh conv1d --iters 300 2>&1 \
    | grep -E "^impl|^aiter_swa|^triton|MET|MISSED|device NVIDIA|conv1d:|long prefill" | grep -v "seed's 95 us: MISSED" | head -40
echo "[+$((SECONDS - t0))s] conv1d done"
tar czf "$O/conv1d.tgz" -C "$L" conv1d
OUT=$L/peers timeout -k 10 "${PEERS_LIMIT:-300}" bash op_tests/run_gpu_suite.sh peers --reps 10 2>&1 | tail -42
echo "[+$((SECONDS - t0))s] peers done"
tar czf "$O/peers.tgz" -C "$L" peers
