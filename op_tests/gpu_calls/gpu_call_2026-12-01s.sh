#!/usr/bin/env bash
# 2026-12-01 (07:53 UTC session), call 2: a probe (op_tests/gpu_calls/probe_2026-12-01s.cu, plain CUDA, built there)
# for merging batch 1's partitions inside the partition kernel with a workspace counter tagged by the launch's
# %gridid (no known initial state needed): whether %gridid differs for every launch (eager, graph replays), and
# what the last-workgroup merge costs against pa_v1's dependent reduce kernel, with no K/V work.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01s.sh   Logs: $OUT/probe_s.log
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"
nvcc -O3 -arch=sm_90 -o /tmp/probe_s op_tests/gpu_calls/probe_2026-12-01s.cu && timeout 120 /tmp/probe_s 2>&1 | tee "$O/probe_s.log"
