#!/usr/bin/env bash
# 2026-11-30 (04:54 UTC session), call 3: the GPU tests of the tree with the 32-row warp split (two row groups
# sharing one ring) that run the warp split: the matrix-core and multi-token files (32 rows: GQA 8 x mtp 4, GQA 4
# x mtp 8, GQA 16 x mtp 2), the one-token GPU file, the SWA grid, hostile inputs, the self-check, the fast path.
# The 64 sm_90 warp-split kernels (fp16 and bf16, heads 64 and 128, 16 and 32 rows, every flag) pre-built here
# first (16 jobs; the CPU machine's builds of them pass the 64 MiB carry), others compile on first use; -v, so
# that a step stopped by its time limit still names what passed.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30l.sh   (no carry).  Logs: $OUT/call_30l.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_30l; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
python3 -m pip install --no-deps --no-build-isolation -e . >"$L/install.log" 2>&1 || tail -5 "$L/install.log"
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype fp16,bf16 --kv-dtype fp16,bf16 --head-size 64,128 \
    --gqa 1 --mma-rows 16,32 --jobs 16 --out /tmp/gpu_kernels >"$L/prebuild.log" 2>&1
echo "[+$((SECONDS - t0))s] $(grep -E "kernels ready" "$L/prebuild.log")"
OUT=$L/check CHECK_TIMEOUT=330 AITER_SWA_PREBUILT_DIR=/tmp/gpu_kernels timeout -k 10 345 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_mtp_gpu.py op_tests/pa_v1/test_pa_v1_gpu.py \
    op_tests/pa_v1/test_pa_v1_swa.py op_tests/pa_v1/test_pa_v1_robustness.py op_tests/pa_v1/test_pa_v1_selfcheck.py \
    op_tests/pa_v1/test_pa_v1_fast_path.py -v 2>&1 | tail -8
echo "passed: $(grep -c ' PASSED' $L/check/pytest_check.log) failed: $(grep -c ' FAILED' $L/check/pytest_check.log)"
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_30l.tgz" -C "$L" .
