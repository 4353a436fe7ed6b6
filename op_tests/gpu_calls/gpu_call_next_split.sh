#!/usr/bin/env bash
# Prepared in the session of 2026-11-30 04:54 UTC, the second call after gpu_call_next.sh. About 7 minutes on a
# fresh H200 (each step bounded):
#   1. the seed shape's split (1.05x FlashInfer, not profiled yet: 15 partitions of 576 keys and a reduce) against
#      4 to 32 partitions (split_study.py's seed row), with batch 1's again (run_gpu_suite.sh split);
#   2. where the warp split waits now (Nsight Compute sections of one launch at four of issue 8's rows,
#      `run_gpu_suite.sh mma` with MMA_NCU=1, tests and benchmark off), after the ldmatrix.x4 loaders (430
#      instructions per warp and tile at head 128): the rows still above FlashInfer's time (Mistral batch 32,
#      batch 1) and what limits them.
# run: bash op_tests/gpu_calls/gpu_call_next_split.sh    carry: none.  Logs: $OUT/call_next_split.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_next_split; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
OUT=$L/split SPLIT_TIMEOUT=120 timeout -k 10 190 bash op_tests/run_gpu_suite.sh split \
    --rows "seed B8 9216 w8192" "mistral B1 32K w4096" --caps 4 8 12 16 24 32 2>&1 | grep -E "^summary|MISMATCH"
echo "[+$((SECONDS - t0))s] split study done"
OUT=$L/ncu MMA_NCU=1 MMA_TESTS=0 MMA_BENCH=0 timeout -k 10 230 bash op_tests/run_gpu_suite.sh mma 2>&1 | tail -20
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_next_split.tgz" -C "$L" .
