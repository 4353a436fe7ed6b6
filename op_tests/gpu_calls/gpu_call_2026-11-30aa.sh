#!/usr/bin/env bash
# 2026-11-30 (13:00 UTC session), call 2: the warp split's merge with O rows of HS + 8 floats in shared memory
# (LDO; "ldo", the tree) against rows of HS floats ("hs": .ab_old = ab92237's csrc/include and spec.py). Each warp
# stores its O tiles with 64-bit stores (STS.64 in the sm_90 SASS, 16 per warp): rows c_row = lane / 4 of a C tile
# HS floats apart put all 32 lanes on the same 8 banks (8 wavefronts per store), HS + 8 on 32 banks per half-warp
# (2). Per SM at gpt-oss window 128 (4 workgroups of 4 warps, all merging at about the same time) that is about
# 2048 shared-memory cycles against 512. The sm_90 instruction counts and registers are the same.
# A-B rounds of issue 8's rows, per-kernel times, then the matrix-core, multi-token and robustness GPU tests on
# the tree (its write shares row_factor / row_dst / row_value with the column split since call 1), then Nsight
# Compute with the source counters of one partition-kernel launch at gpt-oss window 128 and Mistral batch 1.
# Before it: rm -rf .ab_old && mkdir .ab_old && git archive ab92237 csrc/include aiter_swa/ops/pa_v1/spec.py | tar -x -C .ab_old
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30aa.sh   carry: .ab_old.  Logs: $OUT/call_ldo.tgz (~8 min)
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_ldo
ab_variant ldo .
ab_variant hs .ab_old
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16,32)
for v in ldo hs; do ab_build $v "${B[@]}"; done
ROWS=("mistral B1 32K w4096" "gpt-oss B64 16K w128" "seed B8 9216 w8192" "mistral B32 16K w4096"
      "gpt-oss B64 16K w4096" "mistral B32 16K off" "mistral B32 16K w4096 mtp4" "gpt-oss B64 16K w128 mtp4")
ab_bench "ldo hs ldo hs ldo hs" --issue8 --no-peers --reps 5 --kernel mma --rows "${ROWS[@]}"
ab_kernel_times "ldo hs" --calls 100 --workspace aiter --shapes "gpt-oss w128" "mistral B1 w4096" "mistral w4096"
ab_done
L=/tmp/call_ldo
OUT=$L/check CHECK_TIMEOUT=200 timeout -k 10 210 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_mtp_gpu.py op_tests/pa_v1/test_pa_v1_robustness.py 2>&1 | tail -4
echo "$(ab_t) tests done"
if command -v ncu >/dev/null; then
    for row in "gpt-oss B64 16K w128" "mistral B1 32K w4096"; do
        tag=$(echo "$row" | cut -d' ' -f1,2 | tr ' -' '__')
        AITER_SWA_PREBUILT_DIR=/tmp/kernels_ldo timeout -k 5 60 ncu --clock-control none --kernel-name regex:mma_partition_kernel \
            --launch-skip 2 --launch-count 1 --section SpeedOfLight --section MemoryWorkloadAnalysis \
            --section WarpStateStats --section SchedulerStats --section Occupancy --section LaunchStats \
            --section SourceCounters --import-source no -f -o "$L/ncu_$tag" \
            python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers --kernel mma --rows "$row" --reps 1 --calls 1 \
            >"$L/ncu_$tag.log" 2>&1
        ncu -i "$L/ncu_$tag.ncu-rep" --page details >"$L/ncu_${tag}_details.txt" 2>&1
        ncu -i "$L/ncu_$tag.ncu-rep" --page source --csv --print-source sass >"$L/ncu_${tag}_sass.csv" 2>&1
        grep -E "Duration|DRAM Throughput|Achieved Occupancy|Warp Cycles Per Issued" "$L/ncu_${tag}_details.txt" | head -6
        echo "$(ab_t) ncu $tag: $(wc -c <"$L/ncu_${tag}_sass.csv") bytes of source view"
    done
fi
rm -f "$L"/*.ncu-rep.tmp
tar czf "$AB_O/call_ldo.tgz" -C "$L" .
