#!/usr/bin/env bash
# 2026-11-29 (20:38 UTC session), call 7: the pa_v1 GPU tests of the final tree: test_pa_v1_gpu.py (with the
# new test of the long-span route: GQA 4, no window, a 16384-token block table, direct and through a replayed
# graph) and test_pa_v1_mma_gpu.py, 300 s at most (the rest of the session's device time).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29z.sh   carry: none.  Logs: $OUT/call_z.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_z; rm -rf "$L"; mkdir -p "$L"
OUT=$L CHECK_TIMEOUT=${CHECK_TIMEOUT:-300} timeout -k 10 330 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_gpu.py op_tests/pa_v1/test_pa_v1_mma_gpu.py 2>&1 | tail -8
tar czf "$O/call_z.tgz" -C "$L" .
