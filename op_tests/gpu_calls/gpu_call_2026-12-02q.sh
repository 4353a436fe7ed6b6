#!/usr/bin/env bash
# 2026-12-02 (21:47 UTC session), call 2, on cf122bb's kernels (no kernel change): the no-window row, ours against
# FlashInfer's tensor-core decode. (1) `bench_pa_v1_swa.py --issue8 --kernels` at the no-window row, Mistral window
# 4096 and batch 1: each column's kernels with their grid, block and blocks per SM (torch.profiler's Chrome trace).
# (2) Nsight Compute, one launch each at the no-window row: our partition kernel and FlashInfer's
# BatchPrefillWithPagedKVCacheKernel (DRAM bytes and throughput, L2, occupancy, launch).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-02q.sh   carry: .peers   Logs: $OUT/suite/bench_peers.log, $OUT/ncu.log
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
t0=$SECONDS
mkdir -p "$O/suite"
OUT=$O/suite timeout -k 10 300 bash op_tests/run_gpu_suite.sh peers --reps 7 --kernels \
    --rows "mistral B32 16K off" "mistral B32 16K w4096" "mistral B1 32K w4096" 2>&1 \
    | grep -E "^# device|^#   kernels (ours|fi_tc)|^(mistral|gpt-oss|gemma3|seed) |^peers:" | head -30
echo "[+$((SECONDS - t0))s] kernels done"
source op_tests/pa_v1/peers_env.sh
peers_env
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache AITER_SWA_PREBUILT_DIR=/tmp/kernels PYTHONUNBUFFERED=1
for k in mma_partition_kernel BatchPrefillWithPagedKVCacheKernel; do
    echo "=== $k"
    timeout -k 10 120 ncu --clock-control none --kernel-name "regex:$k" --launch-skip 2 --launch-count 1 \
        --section SpeedOfLight --section MemoryWorkloadAnalysis --section Occupancy --section LaunchStats \
        --metrics dram__bytes_read.sum,dram__bytes_write.sum,lts__t_sectors_op_read.sum,lts__t_sector_op_read_hit_rate.pct \
        python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --rows "mistral B32 16K off" --reps 1 --calls 1
    echo "[+$((SECONDS - t0))s] ncu $k done"
done >"$O/ncu.log" 2>&1
grep -E "^===|^\[|DRAM Throughput|Memory Throughput|Duration|Achieved Occupancy|Theoretical Occ|Registers Per|Block Limit|Waves Per SM|Grid Size|Block Size|dram__bytes|lts__t_sector|Shared Memory Config|Dynamic Shared|L2 Hit|Mem Busy|Max Bandwidth" \
    "$O/ncu.log" | head -80
