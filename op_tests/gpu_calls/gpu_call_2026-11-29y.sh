#!/usr/bin/env bash
# 2026-11-29 (20:38 UTC session), call 6: where issue 8's kernels wait, from Nsight Compute's source view (the
# method that found causal_conv1d's barrier stalls in call 3): one launch each of the matrix-core partition
# kernel at the seed shape (B8 9216 w8192, GQA 8) and at Mistral B32 16K w4096 (forced), and of the vector
# partition kernel at Mistral B32 16K w4096 (the dispatch's pick there): WarpStateStats, SourceCounters,
# SpeedOfLight, Occupancy, per-SASS-instruction stall samples (ncu_src_<name>.csv).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29y.sh   carry: none.  Logs: $OUT/call_y.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_y; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
python3 -m pip install --no-deps --no-build-isolation -e . >"$L/install.log" 2>&1 || tail -5 "$L/install.log"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache PYTHONUNBUFFERED=1 AITER_SWA_PREBUILT_DIR=/tmp/kernels
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off \
    --alibi off --sliding-window on --head-size 128 --gqa 1,4 --mma-rows 0,16 --jobs 16 --out /tmp/kernels >"$L/prebuild_pa.log" 2>&1
tail -1 "$L/prebuild_pa.log"
prof() {  # $1: name, $2: kernel regex, $3: --kernel, $4: row
    timeout -k 5 150 ncu --kernel-name regex:$2 --launch-skip 3 --launch-count 1 --section WarpStateStats \
        --section SourceCounters --section SpeedOfLight --section Occupancy --section LaunchStats \
        --export "$L/ncu_$1" --force-overwrite python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers --reps 1 \
        --kernel $3 --rows "$4" >"$L/ncu_run_$1.log" 2>&1
    ncu --import "$L/ncu_$1.ncu-rep" --page details >"$L/ncu_details_$1.txt" 2>&1
    ncu --import "$L/ncu_$1.ncu-rep" --page source --print-source sass --csv >"$L/ncu_src_$1.csv" 2>&1
    echo "== $1 [+$((SECONDS - t0))s]"
    grep -E "^  [a-z_]+.*(mma_partition|partition_kernel)|Duration|DRAM Throughput|Registers Per|Achieved Occupancy|Warp Cycles Per Issued|Grid Size" \
        "$L/ncu_details_$1.txt" | head -12
    rm -f "$L/ncu_$1.ncu-rep"
}
prof mma_seed mma_partition_kernel auto "seed B8 9216 w8192"
prof mma_mistral mma_partition_kernel mma "mistral B32 16K w4096"
prof vector_mistral "partition_kernel" vector "mistral B32 16K w4096"
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_y.tgz" -C "$L" .
