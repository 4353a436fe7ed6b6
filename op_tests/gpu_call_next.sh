#!/usr/bin/env bash
# Prepared in the session of 2026-11-29 14:39 UTC (its device time spent) for the next session's first GPU
# call; not run yet. About 7 minutes on a fresh H200 (each step bounded):
#   1. causal_conv1d's GPU and op tests: the SiLU on pre-scaled taps (41d6271) on the GPU for the first time
#      (the variants bit for bit against the default), and the self-check through the real kernels
#      (test_self_check_through_the_real_kernels, test_self_check_failure_through_the_real_kernel);
#   2. causal_conv1d's benchmark: does the pre-scaled SiLU (one multiply fewer per output) move the long
#      prefill (79.9% / 77.0-77.2% of copy before it, channel-last / channel-first) past 80%?
#   3. Nsight Compute of the matrix-core kernel on issue 8's rows (MMA_NCU): what limits the warp split.
# run: bash op_tests/gpu_call_next.sh    carry: [".peers"]
# Logs: $OUT/check.tgz, $OUT/conv1d.tgz, $OUT/mma.tgz; stdout a summary.
set -uo pipefail
O=${OUT:-gpu_logs}
mkdir -p "$O"
O=$(cd "$O" && pwd)
L=/tmp/call_next
rm -rf "$L"
mkdir -p "$L"
t0=$SECONDS
OUT=$L/check CHECK_TIMEOUT=${CHECK_LIMIT:-150} timeout -k 10 170 bash op_tests/run_gpu_suite.sh check \
    op_tests/causal_conv1d/test_causal_conv1d_gpu.py op_tests/causal_conv1d/test_causal_conv1d.py 2>&1 | tail -8
echo "[+$((SECONDS - t0))s] check done"
tar czf "$O/check.tgz" -C "$L" check
OUT=$L/conv1d CONV1D_STEPS=bench CONV1D_CF_VARIANTS="cf_fast=0" timeout -k 10 "${CONV1D_LIMIT:-170}" \
    bash op_tests/run_gpu_suite.sh conv1d --iters 300 2>&1 \
    | grep -E "^impl|^aiter_swa|^triton|MET|MISSED|device NVIDIA|conv1d:|long prefill" | grep -v "seed's 95 us: MISSED" | head -40
echo "[+$((SECONDS - t0))s] conv1d done"
tar czf "$O/conv1d.tgz" -C "$L" conv1d
OUT=$L/mma MMA_TESTS=0 MMA_BENCH=0 MMA_NCU=1 timeout -k 10 "${MMA_LIMIT:-200}" bash op_tests/run_gpu_suite.sh mma 2>&1 | tail -45
echo "[+$((SECONDS - t0))s] mma ncu done"
tar czf "$O/mma.tgz" -C "$L" mma
