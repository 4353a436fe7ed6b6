#!/usr/bin/env bash
# Prepared in the session of 2026-11-29 17:15 UTC (its device time spent) for the next session's first GPU
# call; not run yet. About 5 minutes on a fresh H200 (each step bounded):
#   1. causal_conv1d's GPU tests on the committed tree (scaled() rounds tap * K on its own: the fp32 cf_fast=0
#      bit identity failed without it and passed with it in that session's call 2);
#   2. the open question of that session (docs/results.md, calls 4-6): the same matrix-core specialization and
#      split measured 5-9% slower under --kernel auto than under --kernel mma (Mistral, no window, with a
#      dispatch rule that picked it). auto already picks that kernel at GQA 8: gpt-oss and the seed shape, auto
#      and mma interleaved (if auto is slower there too, the default dispatch pays it today);
#   3. where nsys exists, a trace of one auto and one mma run of gpt-oss w4096: the kernels, grids and times
#      each launches (nsys_auto.txt, nsys_mma.txt).
# run: bash op_tests/gpu_calls/gpu_call_next.sh    carry: none.  Logs: $OUT/call_next.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_next; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
OUT=$L/check CHECK_TIMEOUT=110 timeout -k 10 150 bash op_tests/run_gpu_suite.sh check \
    op_tests/causal_conv1d/test_causal_conv1d_gpu.py 2>&1 | tail -4
echo "[+$((SECONDS - t0))s] conv1d GPU tests done"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache PYTHONUNBUFFERED=1
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off \
    --alibi off --sliding-window on --head-size 64,128 --gqa 1 --mma-rows 16 --jobs 16 --out /tmp/kernels >"$L/prebuild_pa.log" 2>&1
ROWS=("gpt-oss B64 16K w4096" "seed B8 9216 w8192" "gpt-oss B64 16K w128")
for kernel in auto mma auto mma; do
    echo "== $kernel [+$((SECONDS - t0))s]"
    AITER_SWA_PREBUILT_DIR=/tmp/kernels timeout -k 5 90 python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers \
        --reps 7 --kernel $kernel --rows "${ROWS[@]}" 2>&1 | tee -a "$L/bench_auto_mma.log" | grep -E "^(gpt-oss|seed)"
done
if command -v nsys >/dev/null; then
    for kernel in auto mma; do
        AITER_SWA_PREBUILT_DIR=/tmp/kernels timeout -k 5 90 nsys profile -o "$L/nsys_$kernel" --force-overwrite true \
            --stats=true python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers --reps 3 --kernel $kernel \
            --rows "gpt-oss B64 16K w4096" >"$L/nsys_$kernel.txt" 2>&1
        grep -A12 "cuda_gpu_kern_sum" "$L/nsys_$kernel.txt" | head -14
    done
    rm -f "$L"/nsys_*.nsys-rep "$L"/nsys_*.sqlite
fi
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_next.tgz" -C "$L" .
