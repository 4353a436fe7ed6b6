#!/usr/bin/env bash
# 2026-11-30 (19:11 UTC session), call 4: issue 8's table with FlashInfer and vLLM on the tree with the
# programmatic reduce launch (at most PROGRAMMATIC_REDUCE_MAX_WORKGROUPS_PER_CU = 6 reduce workgroups per SM:
# calls 2 and 3), then the robustness and one-token GPU test files on it (call 2 ran the matrix-core and
# multi-token files with the launch always on).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30am.sh   carry: .peers   Logs: $OUT/peers, $OUT/check
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O/peers" "$O/check"; O=$(cd "$O" && pwd)
t0=$SECONDS
OUT=$O/peers timeout -k 10 300 bash op_tests/run_gpu_suite.sh peers --reps 7 2>&1 | tail -34
echo "[+$((SECONDS - t0))s] peers done"
OUT=$O/check CHECK_TIMEOUT=240 timeout -k 10 250 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_robustness.py op_tests/pa_v1/test_pa_v1_gpu.py 2>&1 | tail -4
echo "[+$((SECONDS - t0))s] done"
