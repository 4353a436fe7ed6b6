#!/usr/bin/env bash
# 2026-11-29 (17:15 UTC session), call 2: the warp split's K/V ring at 2, 3 and 4 stages (AITER_SWA_MMA_STAGES,
# spec.mma_stages; more than 2 in dynamic shared memory): the matrix-core GPU tests at 3 stages, then issue 8's
# rows on the mma kernel at each depth (same run). The deeper ring measured slower and was not kept: the knob
# exists only with op_tests/gpu_calls/gpu_call_2026-11-29p.patch applied to the tree of 14d8ff0 (`git apply` it first).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29p.sh   carry: none
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_p; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
OUT=$L/check AITER_SWA_MMA_STAGES=3 CHECK_TIMEOUT=150 timeout -k 10 200 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py "op_tests/causal_conv1d/test_causal_conv1d_gpu.py::test_cf_variant_bit_identical_to_the_default" 2>&1 | tail -6
echo "[+$((SECONDS - t0))s] mma tests at 3 stages done"
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache PYTHONUNBUFFERED=1
ROWS=("mistral B32 16K w4096" "mistral B1 32K w4096" "gpt-oss B64 16K w128" "gpt-oss B64 16K w4096"
      "seed B8 9216 w8192" "mistral B32 16K off" "gpt-oss B64 16K w4096 mtp4")
for st in 2 3 4; do
    AITER_SWA_MMA_STAGES=$st python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 \
        --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16 --jobs 16 \
        --out /tmp/kernels_st$st >"$L/prebuild_st$st.log" 2>&1 || tail -3 "$L/prebuild_st$st.log"
    grep -E "mma_partition_kernel" "$L/prebuild_st$st.log" | head -4
    echo "== stages $st [+$((SECONDS - t0))s]"
    AITER_SWA_MMA_STAGES=$st AITER_SWA_PREBUILT_DIR=/tmp/kernels_st$st timeout -k 10 150 python3 op_tests/pa_v1/bench_pa_v1_swa.py \
        --issue8 --no-peers --kernel mma --reps 5 --rows "${ROWS[@]}" 2>&1 | tee "$L/bench_st$st.log" \
        | grep -E "^(mistral|gpt-oss|seed|gemma)|copy bandwidth \(" | head -12
done
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_p.tgz" -C "$L" .
