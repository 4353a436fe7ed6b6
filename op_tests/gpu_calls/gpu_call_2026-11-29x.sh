#!/usr/bin/env bash
# 2026-11-29 (20:38 UTC session), call 5: issue 12's benchmark as the suite runs it, on the tree of 78c6aae (one
# workgroup barrier): the seed batch with vLLM's Triton peer (with and without its per-step metadata), the long
# prefill in both layouts with their tuning variants, the 7232-token control (CONV1D_STEPS=bench).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29x.sh   carry: .peers/vllm_conv1d.  Logs: $OUT/call_x.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_x; rm -rf "$L"; mkdir -p "$L"
python3 -m pip install --no-deps --no-build-isolation -e . >"$L/install.log" 2>&1 || tail -5 "$L/install.log"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$L/device.txt"
OUT=$L CONV1D_STEPS=bench timeout -k 10 400 bash op_tests/run_gpu_suite.sh conv1d --iters 300 2>&1 \
    | grep -E "^(aiter_swa|triton|naive|  p50|  long|  \(variant|peer|bytes|device|conv1d:|BENCH)" | head -80
tar czf "$O/call_x.tgz" -C "$L" .
