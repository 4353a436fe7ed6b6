#!/usr/bin/env bash
# 2026-11-29 (20:38 UTC session), call 3:
#   1. the long-span rule (6ef5bbe) on the project benchmark's own table: Mistral without a window at contexts
#      16384 and 65536 (block table = context), auto against the vector kernel, two rounds (issue 8's "no shape
#      of the existing table slower than before");
#   2. causal_conv1d's long prefill under Nsight Compute, source level: one launch of the op's forward kernel per
#      layout with the WarpStateStats and SourceCounters sections, the per-SASS-instruction stall samples
#      (--page source --print-source sass), to see where the channel-first kernel waits that the
#      channel-last one does not (ncu_src_<layout>.csv, ncu_details_<layout>.txt).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29v.sh   carry: none.  Logs: $OUT/call_v.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_v; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
python3 -m pip install --no-deps --no-build-isolation -e . >"$L/install.log" 2>&1 || tail -5 "$L/install.log"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache PYTHONUNBUFFERED=1
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off \
    --alibi off --sliding-window off --head-size 128 --gqa 1,4 --mma-rows 0,16 --jobs 16 --out /tmp/kernels >"$L/prebuild_pa.log" 2>&1 &
python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op causal_conv1d --dtype bf16 --width 4 --activation silu --jobs 8 \
    --out /tmp/kernels_conv1d >"$L/prebuild_conv1d.log" 2>&1
wait
tail -1 "$L/prebuild_pa.log"; tail -1 "$L/prebuild_conv1d.log"
echo "[+$((SECONDS - t0))s] kernels ready"
for round in 1 2; do
    for kernel in auto vector; do
        AITER_SWA_PREBUILT_DIR=/tmp/kernels timeout -k 5 120 python3 op_tests/pa_v1/bench_pa_v1_swa.py --models mistral \
            --ctx 16384 65536 --windows 0 --flex-ctx --reps 7 --kernel $kernel 2>&1 | tee -a "$L/bench_table.log" \
            | grep -E "^mistral" | sed "s/^/$kernel: /"
    done
done
echo "[+$((SECONDS - t0))s] ncu"
if command -v ncu >/dev/null; then
    ncu --version | tail -1
    for layout in channel_first channel_last; do
        AITER_SWA_PREBUILT_DIR=/tmp/kernels_conv1d timeout -k 5 150 ncu --kernel-name regex:fwd_kernel --launch-skip 1 \
            --launch-count 1 --section WarpStateStats --section SourceCounters --section SpeedOfLight --section Occupancy \
            --section LaunchStats --export "$L/ncu_$layout" --force-overwrite \
            python3 op_tests/causal_conv1d/bench_causal_conv1d.py --lens 4096,2048,1024,1,1,1 --layout $layout \
            --peer-dir "" --iters 2 --repeats 1 --graph-calls 1 >"$L/ncu_run_$layout.log" 2>&1
        ncu --import "$L/ncu_$layout.ncu-rep" --page details >"$L/ncu_details_$layout.txt" 2>&1
        ncu --import "$L/ncu_$layout.ncu-rep" --page source --print-source sass --csv >"$L/ncu_src_$layout.csv" 2>&1
        grep -E "Duration|DRAM Throughput|Warp Cycles Per Issued|Stall|No Eligible|Achieved Occupancy" \
            "$L/ncu_details_$layout.txt" | head -14
        wc -l "$L/ncu_src_$layout.csv"
    done
    rm -f "$L"/*.ncu-rep
fi
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_v.tgz" -C "$L" .
