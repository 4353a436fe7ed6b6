#!/usr/bin/env bash
# Session of 2026-11-29 11:28 UTC, call 5 (at most 10 minutes on a fresh H200; docs/results.md): the whole
# pytest tree on the GPU (default grid) after the session's kernel changes (pa_v1's warp split and 16-row
# chunks, causal_conv1d's straddling channel-first loads), less the CPU-only emulator files (run on the
# CPU machine and in CI).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29j.sh
# Logs: $OUT/tests.tgz (pytest.log); stdout the failures and the summary.
set -uo pipefail
O=${OUT:-gpu_logs}
mkdir -p "$O"
O=$(cd "$O" && pwd)
L=/tmp/call_j
rm -rf "$L"
mkdir -p "$L"
OUT=$L FULL_GRID=0 timeout -k 10 "${TESTS_LIMIT:-530}" bash op_tests/run_gpu_suite.sh tests \
    --ignore op_tests/pa_v1/test_pa_v1_mma_emulated.py --ignore op_tests/pa_v1/test_pa_v1_vector_emulated.py \
    --ignore op_tests/causal_conv1d/test_causal_conv1d_emulated.py 2>&1 | tail -25
grep -cE " PASSED" "$L/pytest.log"; grep -cE " FAILED" "$L/pytest.log"
tar czf "$O/tests.tgz" -C "$L" .
