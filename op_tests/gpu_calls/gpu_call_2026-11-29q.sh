#!/usr/bin/env bash
# 2026-11-29 (17:15 UTC session), call 3:
#   1. causal_conv1d channel-first long prefill with PTX cache hints on its 16-byte accesses
#      (op_tests/causal_conv1d/hint_variants.py, rewritten here only): A (as committed), st.cs stores,
#      st.cs + ld.L2::256B loads, A again (the A-A spread is the run's noise);
#   2. issue 8, Mistral (GQA 4) and Gemma-3 (GQA 2) rows on the vector and on the matrix-core kernel in one run
#      (does the warp split now match or beat the vector kernel there: dispatch rule spec.choose_kernel).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29q.sh    carry: none.  Logs: $OUT/call_q.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_q; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
python3 -m pip install --no-deps --no-build-isolation -e . >"$L/install.log" 2>&1 || tail -5 "$L/install.log"
nvidia-smi --query-gpu=name,driver_version,clocks.sm --format=csv,noheader | tee "$L/device.txt"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache PYTHONUNBUFFERED=1
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
# issue 8 kernels pre-built in the background (the conv1d runs compile theirs on first use)
{ python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 \
    --soft-cap off --alibi off --head-size 128 --gqa 4 --mma-rows 0 --jobs 8 --out /tmp/kernels
  python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 \
    --soft-cap off --alibi off --head-size 256 --gqa 2 --mma-rows 0 --sliding-window on --jobs 8 --out /tmp/kernels
  python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 \
    --soft-cap off --alibi off --head-size 128,256 --gqa 1 --mma-rows 16 --jobs 8 --out /tmp/kernels; } \
    >"$L/prebuild_pa.log" 2>&1 &
pb=$!
cp csrc/include/aiter_swa/causal_conv1d/kernel.h /tmp/kernel_orig.h
cf() {  # $1: label
    echo "== conv1d channel-first: $1 [+$((SECONDS - t0))s]"
    timeout -k 5 100 python3 op_tests/causal_conv1d/bench_causal_conv1d.py --lens 4096,2048,1024,1,1,1 \
        --layout channel_first --peer-dir "" --iters 200 2>&1 | tee "$L/conv1d_$1.log" | grep -E "^aiter_swa|long prefill"
}
cf A
python3 op_tests/causal_conv1d/hint_variants.py st_cs; cf st_cs
cp /tmp/kernel_orig.h csrc/include/aiter_swa/causal_conv1d/kernel.h
python3 op_tests/causal_conv1d/hint_variants.py st_cs ld_256; cf st_cs_ld_256
cp /tmp/kernel_orig.h csrc/include/aiter_swa/causal_conv1d/kernel.h
cf A2
wait $pb || tail -3 "$L/prebuild_pa.log"
echo "[+$((SECONDS - t0))s] pa kernels ready"
ROWS=("mistral B32 16K w4096" "mistral B32 128K w4096" "mistral B32 16K off" "gemma3 B16 16K w1024")
for kernel in vector mma vector; do
    echo "== pa_v1 $kernel [+$((SECONDS - t0))s]"
    AITER_SWA_PREBUILT_DIR=/tmp/kernels timeout -k 5 120 python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers \
        --kernel $kernel --reps 5 --rows "${ROWS[@]}" 2>&1 | tee -a "$L/bench_pa.log" | grep -E "^(mistral|gemma)|copy bandwidth \("
done
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_q.tgz" -C "$L" .
