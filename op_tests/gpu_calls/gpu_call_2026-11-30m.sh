#!/usr/bin/env bash
# 2026-11-30 (04:54 UTC session), call 4: issue 8's table with FlashInfer and vLLM's Triton kernel in the same
# run (run_gpu_suite.sh peers; the new Mistral mtp 8 row), on the tree with the K/V B fragments two per
# ldmatrix.x4 and the 32-row warp split.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30m.sh   carry: .peers.  Logs: $OUT/call_30m.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_30m; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
OUT=$L/peers timeout -k 10 250 bash op_tests/run_gpu_suite.sh peers --reps 7 2>&1 | tail -40
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_30m.tgz" -C "$L" .
