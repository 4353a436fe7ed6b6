#!/usr/bin/env bash
# Prepared in the session of 2026-11-29 23:37 UTC for the next session's first GPU call; run as call 1 of the
# 2026-11-30 02:24 UTC session (docs/results.md). About 9 minutes on a fresh H200 (each step bounded):
#   1. the GPU test files that the session's five calls did not run on the committed tree, now that one-token
#      GQA >= 4 calls on the warp split take the matrix-core kernel (spec.MMA_WARP_KV_MIN_GQA): the SWA grid, the
#      fast path, robustness (hostile inputs), the self-check, the API and fuzz tests (test_pa_v1_gpu.py,
#      test_pa_v1_mma_gpu.py, test_pa_v1_mtp_gpu.py and causal_conv1d's GPU tests passed in calls 4 and 5);
#   2. where the warp split waits now (Nsight Compute sections of one launch at four of issue 8's rows,
#      `run_gpu_suite.sh mma` with MMA_NCU=1, tests and benchmark off): after the loop went from 588 to
#      424 instructions, the next lever (the q.k chain, the query's A fragments from shared memory, occupancy).
# run: bash op_tests/gpu_calls/gpu_call_next.sh    carry: none.  Logs: $OUT/call_next.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_next; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
OUT=$L/check CHECK_TIMEOUT=310 timeout -k 10 325 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_swa.py op_tests/pa_v1/test_pa_v1_fast_path.py op_tests/pa_v1/test_pa_v1_robustness.py \
    op_tests/pa_v1/test_pa_v1_selfcheck.py op_tests/pa_v1/test_pa_v1_api.py op_tests/pa_v1/test_pa_v1_fuzz.py 2>&1 | tail -8
echo "[+$((SECONDS - t0))s] tests done"
OUT=$L/ncu MMA_NCU=1 MMA_TESTS=0 MMA_BENCH=0 timeout -k 10 230 bash op_tests/run_gpu_suite.sh mma 2>&1 | tail -20
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_next.tgz" -C "$L" .
