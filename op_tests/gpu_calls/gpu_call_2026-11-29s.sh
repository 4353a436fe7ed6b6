#!/usr/bin/env bash
# 2026-11-29 (17:15 UTC session), call 5: call 4's auto run at 16384 tokens (604.1 us) sat above both kernels'
# (vector 593.6, matrix-core 555.8): auto and mma interleaved, Mistral B32 without a window, block table 16384
# tokens, context 16384; then issue 8's Mistral rows under auto (window 4096: the span rule must leave them on
# the vector kernel). run: bash op_tests/gpu_calls/gpu_call_2026-11-29s.sh   carry: none.  Logs: $OUT/call_s.tgz
# Ran with the pa_v1 part of op_tests/gpu_calls/gpu_call_2026-11-29r.patch applied (the span rule, not kept).
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_s; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
python3 -m pip install --no-deps --no-build-isolation -e . >"$L/install.log" 2>&1 || tail -5 "$L/install.log"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache PYTHONUNBUFFERED=1
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
{ python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 \
    --soft-cap off --alibi off --head-size 128 --gqa 4 --mma-rows 0 --jobs 16 --out /tmp/kernels
  python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 \
    --soft-cap off --alibi off --head-size 128 --gqa 1 --mma-rows 16 --jobs 16 --out /tmp/kernels; } >"$L/prebuild_pa.log" 2>&1
echo "[+$((SECONDS - t0))s] kernels ready"
for kernel in auto mma auto mma vector; do
    AITER_SWA_PREBUILT_DIR=/tmp/kernels timeout -k 5 60 python3 op_tests/pa_v1/bench_pa_v1_swa.py --models mistral \
        --ctx 16384 --windows 0 --capacity 16384 --flex-ctx --reps 7 --kernel $kernel 2>&1 \
        | tee -a "$L/bench_capacity.log" | grep -E "^mistral" | sed "s/^/$kernel: /"
done
echo "[+$((SECONDS - t0))s] issue 8 Mistral rows, auto"
AITER_SWA_PREBUILT_DIR=/tmp/kernels timeout -k 5 90 python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers --reps 7 \
    --rows "mistral B32 16K w4096" "mistral B32 128K w4096" "mistral B32 16K off" 2>&1 | tee "$L/bench_issue8.log" \
    | grep -E "^mistral"
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_s.tgz" -C "$L" .
