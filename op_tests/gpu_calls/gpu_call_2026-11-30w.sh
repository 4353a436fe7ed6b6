#!/usr/bin/env bash
# 2026-11-30 (10:30 UTC session), call 2 (10:38 UTC; prepared as gpu_call_next.sh): issue 8's table with the peers
# on 7d69139 and the Nsight Compute pass (docs/results.md). Prepared in the session of 2026-11-30 07:28 UTC for the
# next session's first GPU call (the version before it ran as
# that session's call 1: the API and fuzz GPU tests and issue 8's rows; git history keeps it). At most 9 minutes on a
# fresh H200 (each step bounded; the Nsight step pre-builds the benchmark's ~30 kernels first), carry .peers:
#   1. issue 8's table with FlashInfer and vLLM on the tree as it is: that session's one peers run (its call 6) ran
#      on the in-kernel merge it did not keep, so its Mistral split rows were not this tree's;
#   2. where the rows still above FlashInfer's time wait (Nsight Compute sections of one partition kernel launch at
#      Mistral batch 32, batch 1, the seed shape and gpt-oss window 4096: run_gpu_suite.sh mma with MMA_NCU=1,
#      tests and benchmark off), never profiled on the 16-row ldmatrix.x4 kernel.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30w.sh    carry: .peers.  Logs: $OUT/call_next.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_next; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
OUT=$L/peers timeout -k 10 250 bash op_tests/run_gpu_suite.sh peers --reps 7 2>&1 | tail -34
echo "[+$((SECONDS - t0))s] peers done"
OUT=$L/ncu MMA_NCU=1 MMA_TESTS=0 MMA_BENCH=0 timeout -k 10 290 bash op_tests/run_gpu_suite.sh mma 2>&1 | tail -20
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_next.tgz" -C "$L" .
