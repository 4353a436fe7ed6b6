#!/usr/bin/env bash
# Prepared in the session of 2026-11-29 23:37 UTC (no device time was left to run it): the warp split's K and V
# B fragments by ldmatrix.x4 (mma.h load_b_nk2 / load_b_kn2: two 8-key or 8-column tiles per instruction; loop
# 424 -> 411 sm_90 instructions at head 128, 389 -> 374 at head 64; 124 / 128 registers, zero spills; the emulator's
# test_pa_v1_mma_emulated.py 77 passed with it, through the generic loaders, not the x4 PTX), the diff in
# op_tests/gpu_calls/gpu_call_next_x4.patch. Apply it first (`git apply op_tests/gpu_calls/gpu_call_next_x4.patch`),
# then run this; the kernel before it is not rebuilt here: compare with the 23:37 UTC session's calls 1, 3 and 4
# (Mistral B32 w4096 144.0-144.9 µs, gpt-oss w4096 138.8-139.6, seed 47.3-48.1, gpt-oss mtp 4 224.4-226.9), or
# run an A-B with the tree without the patch carried as .ab_old (as gpu_call_2026-11-30a.sh). The benchmark checks
# each row against the reference before timing it: the x4 lane mapping has not run on a GPU yet.
# run: bash op_tests/gpu_calls/gpu_call_next_x4.sh   carry: none.  Logs: $OUT/call_30f/
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=$O/call_30f; mkdir -p "$L"
t0=$SECONDS
python3 -m pip install --no-deps --no-build-isolation -e . >"$L/install.log" 2>&1 || tail -5 "$L/install.log"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache PYTHONUNBUFFERED=1
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off \
    --alibi off --sliding-window on --head-size 64,128 --gqa 1 --mma-rows 16 --jobs 4 --out /tmp/kernels_x4 \
    >"$L/prebuild.log" 2>&1; grep -E "kernels ready|rror:" "$L/prebuild.log" | head -3
echo "[+$((SECONDS - t0))s] kernels ready"
for r in 1 2; do
    AITER_SWA_PREBUILT_DIR=/tmp/kernels_x4 timeout -k 5 40 python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers \
        --reps 5 --kernel mma --rows "mistral B32 16K w4096" "gpt-oss B64 16K w4096" "seed B8 9216 w8192" \
        "gpt-oss B64 16K w4096 mtp4" 2>&1 | tee -a "$L/bench.log" | grep -E "^(mistral|gpt-oss|seed)|mismatch|!|rror"
    echo "[+$((SECONDS - t0))s] round $r"
done
