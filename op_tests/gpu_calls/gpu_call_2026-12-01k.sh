#!/usr/bin/env bash
# 2026-12-01 (02:28 UTC session), call 6: a probe for what batch 1's call could cost at best on this H200
# (op_tests/gpu_calls/probe_2026-12-01.cu, plain CUDA, built there): a kernel reading batch 1's 16.8 MB of K/V
# from a cold L2 (8 rotating buffers, graph replay), 1 GiB for the peak read rate, the per-call cost of one and of
# two empty kernels (plain and as pa_v1's programmatic dependent launches), and how many thread-block clusters
# of 2 to 16 workgroups fit at once (cudaOccupancyMaxActiveClusters) at 56, 111 and 200 KB of shared memory.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01k.sh   Logs: $OUT/probe.log
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"
nvcc -O3 -arch=sm_90 -o /tmp/probe op_tests/gpu_calls/probe_2026-12-01.cu && timeout 120 /tmp/probe 2>&1 | tee "$O/probe.log"
