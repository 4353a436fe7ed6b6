#!/usr/bin/env bash
# Prepared in the session of 2026-11-30 04:54 UTC for the next session's first GPU call (the version before it
# ran as call 1 of the 02:24 UTC session; git history keeps it); gpu_call_next_split.sh is the second. About 9
# minutes on a fresh H200 (each step bounded):
#   1. the GPU test files that that session's calls did not run on the 32-row warp split (d532562): the API and
#      fuzz tests (the matrix-core, multi-token, one-token, SWA, robustness, self-check and fast-path files
#      passed in its call 3);
#   2. issue 8's rows without peers (the dispatch's own kernels), above all Mistral batch 1 with partitions of at
#      least 128 keys (spec.MMA_MIN_PARTITION_KEYS: 32 partitions, the split study's best in call 7 of that
#      session; the op's own split at that default has not run on a GPU: no device time was left).
# run: bash op_tests/gpu_calls/gpu_call_next.sh    carry: none.  Logs: $OUT/call_next.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_next; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
OUT=$L/check CHECK_TIMEOUT=310 timeout -k 10 325 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_api.py op_tests/pa_v1/test_pa_v1_fuzz.py 2>&1 | tail -8
echo "[+$((SECONDS - t0))s] tests done"
AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache timeout -k 10 200 python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers \
    --reps 7 2>&1 | tee "$L/bench.log" | grep -E "^(mistral|gpt-oss|seed|gemma)|MISMATCH|!|rror"
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_next.tgz" -C "$L" .
