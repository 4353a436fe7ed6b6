#!/usr/bin/env bash
# 2026-12-02 (14:57 UTC session), call 2, on the tree's kernels (cf122bb's: the K/V copies' L2 evict_first policy;
# the last memcheck ran on ffdf925's, 2026-12-01 21:46 UTC session): the robustness suite with that session's
# budgets (hostile metadata and the first fuzz configurations under compute-sanitizer memcheck, the differential
# fuzz, the soak).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-02j.sh   carry: none   Logs: $OUT/robust
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O/robust"; O=$(cd "$O" && pwd)
t0=$SECONDS
OUT=$O/robust FUZZ_COUNT=3000 FUZZ_BUDGET_S=30 FUZZ_SANITIZE=15 SOAK_PROCS=6 SOAK_SECONDS=15 SANITIZE_TIMEOUT_S=200 \
    timeout -k 10 540 bash op_tests/run_gpu_suite.sh robust 2>&1 | tail -30
echo "[+$((SECONDS - t0))s] all done"
