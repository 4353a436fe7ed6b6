#!/usr/bin/env bash
# Session of 2026-11-29 14:39 UTC, call 2 (at most 10 minutes on a fresh H200; docs/results.md):
#   1. causal_conv1d's benchmark with query_start_loc staged in LDS (phase 0's searches off global
#      memory): the seed's batch, the long prefill in both layouts (cl_run=8 and cf_fast=0 beside), the
#      128-byte-row control;
#   2. Nsight Compute sections (speed of light, warp states, scheduler, occupancy, memory) of one launch
#      of each layout's default kernel at the long prefill: what still limits it;
#   3. the tests fixed on the CPU in the session before and not re-run on the GPU since (the matrix-core
#      kernel at extreme soft caps; the growing max_context_len with the self-check) and causal_conv1d's
#      GPU tests.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29k.sh    carry: [".peers"]
# Logs: $OUT/conv1d.tgz, $OUT/ncu.tgz, $OUT/check.tgz; stdout a summary.
set -uo pipefail
O=${OUT:-gpu_logs}
mkdir -p "$O"
O=$(cd "$O" && pwd)
L=/tmp/call_k
rm -rf "$L"
mkdir -p "$L"
t0=$SECONDS
OUT=$L/conv1d CONV1D_STEPS=bench CONV1D_CF_VARIANTS="cf_fast=0" timeout -k 10 "${CONV1D_LIMIT:-200}" \
    bash op_tests/run_gpu_suite.sh conv1d --iters 300 2>&1 \
    | grep -E "^impl|^aiter_swa|^triton|MET|MISSED|device NVIDIA|conv1d:|long prefill" | grep -v "seed's 95 us: MISSED" | head -40
echo "[+$((SECONDS - t0))s] conv1d done"
tar czf "$O/conv1d.tgz" -C "$L" conv1d
mkdir -p "$L/ncu"
for layout in channel_last channel_first; do
    AITER_SWA_PREBUILT_DIR=/tmp/kernels_conv1d_tuning AITER_SWA_DISABLE_JIT=1 timeout 100 ncu --clock-control none \
        --kernel-name regex:fwd_kernel --launch-skip 3 --launch-count 1 --section SpeedOfLight \
        --section MemoryWorkloadAnalysis --section WarpStateStats --section SchedulerStats --section Occupancy \
        --section LaunchStats python3 op_tests/causal_conv1d/bench_causal_conv1d.py --lens 4096,2048,1024,1,1,1 \
        --layout $layout --peer-dir "" --iters 2 --repeats 1 --graph-calls 1 >"$L/ncu/ncu_$layout.log" 2>&1
    echo "=== $layout"
    grep -E "DRAM Throughput|Memory Throughput|Duration|Achieved Occupancy|Theoretical Occ|Registers Per|Waves Per SM|Warp Cycles Per Issued|Issue Slots Busy|Eligible Warps|No Eligible|Active Warps Per" \
        "$L/ncu/ncu_$layout.log" | head -16
    grep -iE "stall|est\. speedup|bottleneck" "$L/ncu/ncu_$layout.log" | cut -c1-240 | head -8
done
echo "[+$((SECONDS - t0))s] ncu done"
tar czf "$O/ncu.tgz" -C "$L" ncu
OUT=$L/check CHECK_TIMEOUT=${CHECK_LIMIT:-170} timeout -k 10 190 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_robustness.py::test_soft_cap_extreme_finite_values_match_reference \
    op_tests/pa_v1/test_pa_v1_validation.py::test_growing_max_context_len_reuses_the_checks \
    op_tests/causal_conv1d/test_causal_conv1d_gpu.py 2>&1 | tail -12
grep -cE " PASSED|^PASSED" "$L/check/pytest_check.log"
echo "[+$((SECONDS - t0))s] check done"
tar czf "$O/check.tgz" -C "$L" check
