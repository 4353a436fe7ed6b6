#!/usr/bin/env bash
# Session of 2026-11-29 11:28 UTC, call 1 (docs/results.md): causal_conv1d channel-first with straddling
# loads (a vector that runs past its row's ends is one 16-byte load when it lies inside x's span):
# run_gpu_suite.sh conv1d, benchmark only (the seed's batch with the Triton peer, the long prefill in
# both layouts with a tuning variant beside each, the 128-byte-row control), twice, for the run-to-run spread.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29f.sh    carry: [".peers", ".whl"]
# Logs: $OUT/conv1d.tgz; stdout a summary.
set -uo pipefail
O=${OUT:-gpu_logs}
mkdir -p "$O"
O=$(cd "$O" && pwd)
L=/tmp/call_f
rm -rf "$L"
mkdir -p "$L"
t0=$SECONDS
for i in 1 2; do
    OUT=$L/conv1d_$i CONV1D_STEPS=bench CONV1D_CF_VARIANTS="cf_fast=0" timeout -k 10 "${CONV1D_LIMIT:-200}" \
        bash op_tests/run_gpu_suite.sh conv1d --iters 300 2>&1 \
        | grep -E "^impl|^aiter_swa|^triton|MET|MISSED|device NVIDIA|conv1d:|long prefill" | head -40
    echo "[+$((SECONDS - t0))s] conv1d run $i done"
done
tar czf "$O/conv1d.tgz" -C "$L" .
