#!/usr/bin/env bash
# Prepared in the session of 2026-11-30 10:30 UTC for the next session's first GPU call, carry .peers, at most 9
# minutes on a fresh H200:
#   1. issue 8's table with FlashInfer and vLLM on the tree as it is: that session's peers run (its call 2) ran
#      before the prologue change (178fd8a), measured since only in A-B rounds without the peers (its call 6);
#   2. the matrix-core, multi-token and robustness GPU tests on that change (call 6 ran 20 of the first file's:
#      graph replay, batch 1's split, the multi-token grid at head 128; the robustness file's hostile metadata, bad
#      block ids among them, checks the reordered block-id check).
# run: bash op_tests/gpu_calls/gpu_call_next.sh    carry: .peers.  Logs: $OUT/call_next.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_next; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
OUT=$L/peers timeout -k 10 250 bash op_tests/run_gpu_suite.sh peers --reps 7 2>&1 | tail -34
echo "[+$((SECONDS - t0))s] peers done"
OUT=$L/check CHECK_TIMEOUT=270 timeout -k 10 290 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_mtp_gpu.py op_tests/pa_v1/test_pa_v1_robustness.py 2>&1 | tail -6
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_next.tgz" -C "$L" .
