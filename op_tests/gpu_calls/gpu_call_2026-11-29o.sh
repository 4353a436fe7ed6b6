#!/usr/bin/env bash
# Session of 2026-11-29 14:39 UTC, call 6 (at most 4 minutes, the session's last device time;
# docs/results.md): the GPU tests of the kept tree (calls 2-5's kernel changes all reverted): causal_conv1d's
# GPU and op tests, then pa_v1's matrix-core and multi-token GPU tests (call 1 ran about half of them
# before its time limit), bounded by CHECK_TIMEOUT.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29o.sh
# Logs: $OUT/check.tgz; stdout the summary.
set -uo pipefail
O=${OUT:-gpu_logs}
mkdir -p "$O"
O=$(cd "$O" && pwd)
L=/tmp/call_o
rm -rf "$L"
mkdir -p "$L"
OUT=$L/check CHECK_TIMEOUT=${CHECK_LIMIT:-210} timeout -k 10 230 bash op_tests/run_gpu_suite.sh check \
    op_tests/causal_conv1d/test_causal_conv1d_gpu.py op_tests/causal_conv1d/test_causal_conv1d.py \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_mtp_gpu.py -v 2>&1 | tail -8
grep -cE "PASSED" "$L/check/pytest_check.log"; grep -E "FAILED" "$L/check/pytest_check.log" | head
tar czf "$O/check.tgz" -C "$L" check
