#!/usr/bin/env bash
# 2026-12-03 (10:09 UTC session), call 3, on call 2's kept change (vec.h convert8_f16: the matrix-core kernel's fp8
# K/V stored into an fp16 query's tiles without a round trip through fp32). Call 2 ran it on the GPU at heads 64
# (the benchmark), 128 and 256 (the tests); this call runs the new GPU test at every head size, 32 to 512, both fp8
# formats (fp16 query, GQA 4 x mtp 2, window, sinks, scales, NaN codes outside the attended keys), with call 2's
# fp8 tests again. Kernels pre-built first (16 jobs), so that no test compiles.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-03f.sh   Logs: $OUT/prebuild.log, $OUT/tests.log
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
t0=$SECONDS
python3 -m pip install --no-deps --no-build-isolation -e . >"$O/install.log" 2>&1 || tail -5 "$O/install.log"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache AITER_SWA_PREBUILT_DIR=/tmp/kernels PYTHONUNBUFFERED=1
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
PB=(python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --jobs 16 --out /tmp/kernels
    --kv-dtype fp8e4m3fn,fp8e4m3fnuz --gqa 1)
{ "${PB[@]}" --q-dtype fp16 --out-dtype fp16 --mma-rows 16 --sliding-window on --soft-cap off --alibi off
  "${PB[@]}" --q-dtype fp16,bf16 --out-dtype fp16,bf16 --head-size 256 --mma-rows 0,16 --sliding-window off \
      --soft-cap off --alibi off
  "${PB[@]}" --q-dtype fp16 --out-dtype fp16 --head-size 128 --mma-rows 32 --sliding-window on --soft-cap on \
      --alibi on; } >"$O/prebuild.log" 2>&1
echo "[+$((SECONDS - t0))s] $(grep -E "kernels ready" "$O/prebuild.log" | tr '\n' ' ')"
timeout -k 5 300 python3 -m pytest -q -p no:cacheprovider op_tests/pa_v1/test_pa_v1_mma_gpu.py \
    op_tests/pa_v1/test_pa_v1_swa.py \
    -k "fp8_fp16_query or fp8_codes_exact or (cu_query_lens_flags and (fn or fnuz)) or fp8_decode_is_bit_exact" \
    >"$O/tests.log" 2>&1
tail -3 "$O/tests.log"; echo "[+$((SECONDS - t0))s] all done"
