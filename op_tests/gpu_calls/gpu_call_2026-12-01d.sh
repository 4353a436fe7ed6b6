#!/usr/bin/env bash
# 2026-12-01 (00:06 UTC session), call 4, on the session's final tree (5bbca7b's kernels: calls 1-3's change not
# kept): the one-token, matrix-core and robustness GPU test files (test_graph_inputs_written_by_the_kernels_just_before
# in 5bbca7b's form on 5bbca7b's kernels), then Nsight Compute with the source counters of one partition-kernel
# launch at Mistral batch 1 (what the next change for issue 8's batch-1 target should start from).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01d.sh   Logs: $OUT/check, $OUT/ncu
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O/check" "$O/ncu"; O=$(cd "$O" && pwd)
t0=$SECONDS
OUT=$O/check CHECK_TIMEOUT=220 timeout -k 10 230 bash op_tests/run_gpu_suite.sh check op_tests/pa_v1/test_pa_v1_gpu.py \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_robustness.py 2>&1 | tail -6
echo "[+$((SECONDS - t0))s] tests done"
if command -v ncu >/dev/null; then
    row="mistral B1 32K w4096"; tag=mistral_B1; L=$O/ncu
    timeout -k 5 100 ncu --clock-control none --kernel-name regex:mma_partition_kernel --launch-skip 2 --launch-count 1 \
        --section SpeedOfLight --section MemoryWorkloadAnalysis --section WarpStateStats --section SchedulerStats \
        --section Occupancy --section LaunchStats --section SourceCounters --import-source no -f -o "$L/ncu_$tag" \
        python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers --kernel mma --rows "$row" --reps 1 --calls 1 \
        >"$L/ncu_$tag.log" 2>&1
    ncu -i "$L/ncu_$tag.ncu-rep" --page details >"$L/ncu_${tag}_details.txt" 2>&1
    ncu -i "$L/ncu_$tag.ncu-rep" --page source --csv --print-source sass >"$L/ncu_${tag}_sass.csv" 2>&1
    grep -E "Duration|DRAM Throughput|Achieved Occupancy|Warp Cycles Per Issued|Issued Warp|Eligible" "$L/ncu_${tag}_details.txt" | head -8
    rm -f "$L"/*.ncu-rep
fi
echo "[+$((SECONDS - t0))s] done"
