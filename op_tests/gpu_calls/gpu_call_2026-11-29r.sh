#!/usr/bin/env bash
# 2026-11-29 (17:15 UTC session), call 4:
#   1. causal_conv1d: channel-first rows tiled from 128-byte lines (ConvSpec::CF_SHIFT): its GPU tests, then the
#      long prefill in both layouts, the 128-byte-row control and the seed batch (targets: >= 80% of copy);
#   2. issue 8: the long-span dispatch rule (spec.choose_kernel: GQA >= 4 with the warp split and a block table of
#      >= 16384 tokens -> the matrix-core kernel): Mistral B32 without a window, block table 16384 tokens, contexts
#      1024 / 4096 / 16384, on the vector kernel, the matrix-core kernel, auto (the rule), the vector kernel again.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29r.sh    carry: [".peers/vllm_conv1d"].  Logs: $OUT/call_r.tgz
# Ran with op_tests/gpu_calls/gpu_call_2026-11-29r.patch applied (the 128-byte tiles and the span rule; both measured
# slower and not kept): `git apply` it to this session's commit to re-run.
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_r; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
OUT=$L/check CHECK_TIMEOUT=110 timeout -k 10 150 bash op_tests/run_gpu_suite.sh check \
    op_tests/causal_conv1d/test_causal_conv1d_gpu.py 2>&1 | tail -4
echo "[+$((SECONDS - t0))s] conv1d GPU tests done"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache PYTHONUNBUFFERED=1
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
{ python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 \
    --soft-cap off --alibi off --sliding-window off --head-size 128 --gqa 4 --mma-rows 0 --jobs 8 --out /tmp/kernels
  python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 \
    --soft-cap off --alibi off --sliding-window off --head-size 128 --gqa 1 --mma-rows 16 --jobs 8 --out /tmp/kernels; } \
    >"$L/prebuild_pa.log" 2>&1 &
pb=$!
conv() {  # $1: label, then bench args
    local label=$1; shift
    echo "== conv1d $label [+$((SECONDS - t0))s]"
    timeout -k 5 100 python3 op_tests/causal_conv1d/bench_causal_conv1d.py --iters 300 "$@" 2>&1 | tee "$L/conv1d_$label.log" \
        | grep -E "^(aiter_swa|triton)|long prefill|seed's 95|triton_md's"
}
conv cf_long --lens 4096,2048,1024,1,1,1 --layout channel_first --peer-dir ""
conv cf_control --lens 4096,2048,1024,64 --layout channel_first --peer-dir ""
conv cl_long --lens 4096,2048,1024,1,1,1 --layout channel_last --peer-dir ""
conv seed --peer-dir .peers/vllm_conv1d
conv cf_long_again --lens 4096,2048,1024,1,1,1 --layout channel_first --peer-dir ""
wait $pb || tail -3 "$L/prebuild_pa.log"
for kernel in vector mma auto vector; do
    echo "== pa_v1 Mistral B32 no window, block table 16384 tokens: $kernel [+$((SECONDS - t0))s]"
    AITER_SWA_PREBUILT_DIR=/tmp/kernels timeout -k 5 90 python3 op_tests/pa_v1/bench_pa_v1_swa.py --models mistral \
        --ctx 1024 4096 16384 --windows 0 --capacity 16384 --flex-ctx --reps 5 --kernel $kernel 2>&1 \
        | tee -a "$L/bench_capacity.log" | grep -E "^mistral|copy bandwidth"
done
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_r.tgz" -C "$L" .
