#!/usr/bin/env bash
# 2026-11-30 (13:00 UTC session), call 3 (13:20 UTC; run as gpu_call_next.sh) on 7c02290, at most 8 minutes on a
# fresh H200, carry .peers (docs/results.md):
#   1. issue 8's table with FlashInfer and vLLM on the tree as it is (the write 8 columns at a time and the merge's
#      padded O rows, both after the peers' last run on 7d69139);
#   2. the one-token grid on the matrix-core kernel (AITER_SWA_PA_KERNEL=mma: test_pa_v1_swa.py, test_pa_v1_gpu.py;
#      every output dtype, the float out's two 16-byte stores among them), last run on 7d69139 (call 2 of this session
#      ran the matrix-core, multi-token and robustness files on the tree).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30ab.sh    carry: .peers.  Logs: $OUT/call_next.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_next; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
OUT=$L/peers timeout -k 10 250 bash op_tests/run_gpu_suite.sh peers --reps 7 2>&1 | tail -32
echo "[+$((SECONDS - t0))s] peers done"
OUT=$L/grid MMA_TESTS=grid MMA_BENCH=0 MMA_GRID_TIMEOUT=200 timeout -k 10 240 bash op_tests/run_gpu_suite.sh mma 2>&1 | tail -8
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_next.tgz" -C "$L" .
