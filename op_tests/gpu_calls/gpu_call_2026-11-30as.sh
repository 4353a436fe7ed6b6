#!/usr/bin/env bash
# 2026-11-30 (21:52 UTC session), call 5: test_graph_inputs_written_by_the_kernels_just_before after its change to
# have a kernel (a float32 -> bf16 conversion) write the query of every other call right before the op's launch, so
# that the partition kernel's programmatic launch follows a kernel there and a memcpy node in the other calls.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30as.sh   Logs: $OUT/check
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O/check"; O=$(cd "$O" && pwd)
OUT=$O/check CHECK_TIMEOUT=200 timeout -k 10 210 bash op_tests/run_gpu_suite.sh check op_tests/pa_v1/test_pa_v1_gpu.py \
    -k "graph" -v 2>&1 | tail -12
