#!/usr/bin/env bash
# Prepared in the session of 2026-11-29 20:38 UTC (its device time spent) for the next session's first GPU
# call; not run yet. About 7 minutes on a fresh H200 (each step bounded):
#   1. issue 8's table with its peers in one run (FlashInfer 0.7.4 tensor-core and CUDA-core, vLLM 0.33's Triton
#      attention; run_gpu_suite.sh peers): the first same-run comparison since the long-span rule (6ef5bbe) and
#      the ring's offsets published once per key (the commit after c2d7db4);
#   2. the multi-token and causal_conv1d GPU tests on that tree (the pa_v1 GPU and matrix-core GPU tests passed in
#      the 20:38 UTC session's call 7, before the offsets change; its A-B call checked four rows against the
#      reference).
# run: bash op_tests/gpu_calls/gpu_call_next.sh    carry: .peers (op_tests/pa_v1/fetch_peers.sh).  Logs: $OUT/call_next.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_next; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
OUT=$L/peers timeout -k 10 330 bash op_tests/run_gpu_suite.sh peers --reps 10 2>&1 | tail -40
echo "[+$((SECONDS - t0))s] peers done"
OUT=$L/check CHECK_TIMEOUT=150 timeout -k 10 190 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_mtp_gpu.py op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/causal_conv1d/test_causal_conv1d_gpu.py 2>&1 | tail -4
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_next.tgz" -C "$L" .
