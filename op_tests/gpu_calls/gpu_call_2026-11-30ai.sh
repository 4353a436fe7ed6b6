#!/usr/bin/env bash
# 2026-11-30 (16:17 UTC session), call 6 (the session's last device seconds, no carry): the robustness GPU tests
# (hostile metadata, NaN canaries, graph replay) on 0993d30, the tree with the split's one-wave rule (call 1 ran
# them before the rule).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30ai.sh   Logs: $OUT/check
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O/check"; O=$(cd "$O" && pwd)
OUT=$O/check CHECK_TIMEOUT=170 timeout -k 10 180 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_robustness.py 2>&1 | tail -3
