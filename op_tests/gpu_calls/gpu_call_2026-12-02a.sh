#!/usr/bin/env bash
# 2026-12-02 session, call 1: a probe (op_tests/gpu_calls/probe_2026-12-02.cu, plain CUDA, built there) of merging
# batch 1's partitions inside the partition kernel after a cooperative launch's grid.sync(), against a dependent
# reduce kernel launched as pa_v1's is (its merge is not pa_v1's: see gpu_call_2026-12-02c.sh) and a counter merge that now triggers its dependent early, with no K/V work.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-02a.sh   Logs: $OUT/probe_coop.log
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv | tee "$O/probe_coop.log"
nvcc -O3 -arch=sm_90 -o /tmp/probe_coop op_tests/gpu_calls/probe_2026-12-02.cu && timeout 120 /tmp/probe_coop 2>&1 | tee -a "$O/probe_coop.log"
