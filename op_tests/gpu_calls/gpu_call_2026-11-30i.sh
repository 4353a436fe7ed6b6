#!/usr/bin/env bash
# 2026-11-30 (02:24 UTC session), call 5: issue 8's table with FlashInfer and vLLM's Triton kernel in the same
# run (run_gpu_suite.sh peers), on the committed tree with the warp split's 3-stage swizzled ring.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30i.sh   carry: .peers.  Logs: $OUT/call_30i.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_30i; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
OUT=$L/peers timeout -k 10 190 bash op_tests/run_gpu_suite.sh peers --reps 7 2>&1 | tail -40
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_30i.tgz" -C "$L" .
