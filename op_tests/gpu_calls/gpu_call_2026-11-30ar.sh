#!/usr/bin/env bash
# 2026-11-30 (21:52 UTC session), call 4: issue 8's table with FlashInfer and vLLM on the tree with call 1's "dep"
# (both partition kernels programmatic dependent launches, the reduce's 32 partial loads in flight), then the
# one-token, matrix-core and robustness GPU test files on it (among them
# test_graph_inputs_written_by_the_kernels_just_before: copy kernels write every input right before each call in
# one graph). (Call 3 re-ran gpu_call_2026-11-30x.sh, the A-B-A against 5563b32, on this tree.)
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30ar.sh   carry: .peers   Logs: $OUT/peers, $OUT/check
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O/peers" "$O/check"; O=$(cd "$O" && pwd)
t0=$SECONDS
OUT=$O/peers timeout -k 10 270 bash op_tests/run_gpu_suite.sh peers --reps 7 2>&1 | tail -34
echo "[+$((SECONDS - t0))s] peers done"
OUT=$O/check CHECK_TIMEOUT=220 timeout -k 10 230 bash op_tests/run_gpu_suite.sh check op_tests/pa_v1/test_pa_v1_gpu.py \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_robustness.py 2>&1 | tail -6
echo "[+$((SECONDS - t0))s] done"
