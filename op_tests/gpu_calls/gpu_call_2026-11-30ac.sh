#!/usr/bin/env bash
# 2026-11-30 (13:00 UTC session), call 4 (13:26 UTC) on 7c02290: the robustness suite with short budgets, to fit the
# session's device time (345 s; docs/results.md): the robustness, validation and fuzz-slice GPU tests; the 28
# hostile-metadata cases under compute-sanitizer memcheck (8 query heads on 2 KV heads, head 64, bf16: the warp
# split on sm_90, so the changed write and merge ran under memcheck); a 30-second differential fuzz and its first 15
# configurations under memcheck; a 15-second soak of 6 processes. No carry.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30ac.sh.  Logs: $OUT/robust/
set -uo pipefail
mkdir -p "${OUT:-gpu_logs}/robust"
FUZZ_COUNT=3000 FUZZ_BUDGET_S=30 FUZZ_SANITIZE=15 SOAK_PROCS=6 SOAK_SECONDS=15 SANITIZE_TIMEOUT_S=150 \
    OUT=${OUT:-gpu_logs}/robust timeout -k 10 400 bash op_tests/run_gpu_suite.sh robust 2>&1 | tail -40
