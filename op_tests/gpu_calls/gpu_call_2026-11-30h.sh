#!/usr/bin/env bash
# 2026-11-30 (02:24 UTC session), call 4: the GPU tests of the committed tree with the warp split's 3-stage
# swizzled ring (call 3 measured it against the tree before) that run the warp split: the matrix-core and
# multi-token files, the one-token GPU file with its GQA-4 route, the SWA grid, hostile inputs, the self-check,
# the fast path; the 32 sm_90 warp-split kernels (16-bit KV, heads 64 and 128, every flag) pre-built on the CPU
# machine and carried (.gpu_kernels; others compile on first use); -v, so that a step stopped by its time limit
# still names what passed. Call 5 (gpu_call_2026-11-30i.sh) runs the peers' table (both carries together pass
# the 64 MiB limit).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30h.sh   carry: .gpu_kernels.  Logs: $OUT/call_30h.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_30h; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
OUT=$L/check CHECK_TIMEOUT=250 AITER_SWA_PREBUILT_DIR=$PWD/.gpu_kernels timeout -k 10 265 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_mtp_gpu.py op_tests/pa_v1/test_pa_v1_gpu.py \
    op_tests/pa_v1/test_pa_v1_swa.py op_tests/pa_v1/test_pa_v1_robustness.py op_tests/pa_v1/test_pa_v1_selfcheck.py \
    op_tests/pa_v1/test_pa_v1_fast_path.py -v 2>&1 | tail -8
echo "passed: $(grep -c ' PASSED' $L/check/pytest_check.log) failed: $(grep -c ' FAILED' $L/check/pytest_check.log)"
echo "[+$((SECONDS - t0))s] tests done"
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_30h.tgz" -C "$L" .
