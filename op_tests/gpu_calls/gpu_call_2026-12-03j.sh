#!/usr/bin/env bash
# 2026-12-03 (12:27 UTC session), call 3: the long form's GPU test again with a case of ALiBi and the NHD layout
# added (test_pa_v1_mma_gpu.py test_long_form: fp16 / bf16, windows, mtp 1 and 4 with mixed query lengths, sinks,
# soft cap, with and without the reduce). Every head-128 x 16-row kernel pre-built first (16 jobs), so no test
# compiles.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-03j.sh   Logs: $OUT/prebuild.log, $OUT/tests.log
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
t0=$SECONDS
python3 -m pip install --no-deps --no-build-isolation -e . >"$O/install.log" 2>&1 || tail -5 "$O/install.log"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache AITER_SWA_PREBUILT_DIR=/tmp/kernels PYTHONUNBUFFERED=1
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --jobs 16 --out /tmp/kernels --q-dtype bf16,fp16 \
    --kv-dtype bf16,fp16 --out-dtype bf16,fp16 --head-size 128 --gqa 1 --mma-rows 16 >"$O/prebuild.log" 2>&1
echo "[+$((SECONDS - t0))s] $(grep -E "kernels ready" "$O/prebuild.log")"
timeout -k 5 200 python3 -m pytest -q -p no:cacheprovider -n 8 op_tests/pa_v1/test_pa_v1_mma_gpu.py -k long_form \
    >"$O/tests.log" 2>&1
tail -3 "$O/tests.log"; echo "[+$((SECONDS - t0))s] all done"
