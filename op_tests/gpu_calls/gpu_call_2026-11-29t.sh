#!/usr/bin/env bash
# 2026-11-29 (17:15 UTC session), call 6: is the fast path (aiter_swa/_fast_path.py, on under auto, suspended by
# set_kernel's override) what makes auto slower than a forced mma at Mistral B32 without a window (call 5: 599-615
# against 570-584 us)? auto with the fast path, auto without it (AITER_SWA_FAST_PATH=0), mma forced, interleaved.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29t.sh   carry: none.  Logs: $OUT/call_t.tgz
# Ran with the pa_v1 part of op_tests/gpu_calls/gpu_call_2026-11-29r.patch applied (the span rule, not kept).
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_t; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
python3 -m pip install --no-deps --no-build-isolation -e . >"$L/install.log" 2>&1 || tail -5 "$L/install.log"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache PYTHONUNBUFFERED=1
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off \
    --alibi off --sliding-window off --head-size 128 --gqa 1 --mma-rows 16 --jobs 16 --out /tmp/kernels >"$L/prebuild_pa.log" 2>&1
echo "[+$((SECONDS - t0))s] kernels ready"
for run in auto nofast mma auto nofast mma; do
    kernel=$run; fp=1
    [ "$run" = nofast ] && { kernel=auto; fp=0; }
    AITER_SWA_FAST_PATH=$fp AITER_SWA_PREBUILT_DIR=/tmp/kernels timeout -k 5 60 python3 op_tests/pa_v1/bench_pa_v1_swa.py \
        --models mistral --ctx 16384 --windows 0 --flex-ctx --reps 7 --kernel $kernel 2>&1 \
        | tee -a "$L/bench_fastpath.log" | grep -E "^mistral" | sed "s/^/$run: /"
done
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_t.tgz" -C "$L" .
