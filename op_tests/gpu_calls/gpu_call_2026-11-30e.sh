#!/usr/bin/env bash
# 2026-11-30 (23:37 UTC session of 11-29), call 5 (the device time left): the multi-token GPU test that call 4
# found assuming the vector kernel at GQA 4 and head 128 (now on the matrix-core kernel on sm_90), moved to head
# 96; then causal_conv1d's GPU tests (bf16 rounding by cvt.rn.bf16.f32 and pack2 now in vec.h), bounded.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30e.sh   carry: none.  Logs: $OUT/call_30e.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_30e; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
OUT=$L/check CHECK_TIMEOUT=100 timeout -k 5 110 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_mtp_gpu.py -k "vector_kernel_reads or arange_equals" 2>&1 | tail -3
echo "[+$((SECONDS - t0))s]"
OUT=$L/conv CHECK_TIMEOUT=$((200 - SECONDS + t0)) timeout -k 5 $((205 - SECONDS + t0)) bash op_tests/run_gpu_suite.sh check \
    op_tests/causal_conv1d/test_causal_conv1d_gpu.py 2>&1 | tail -3
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_30e.tgz" -C "$L" .
