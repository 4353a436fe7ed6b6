#!/usr/bin/env bash
# 2026-12-02 session, call 3: a probe (op_tests/gpu_calls/probe_2026-12-02c.cu, plain CUDA with pa_v1's lse.h, built
# there) of pa_v1's reduce kernel (32 workgroups, lse_merge_block) against reduces spread over 128 and 256
# workgroups with shuffles, each after a partition-like kernel with no K/V work.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-02c.sh   Logs: $OUT/probe_reduce.log
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"
nvcc -O3 -arch=sm_90 -DAITER_SWA_WAVEFRONT_SIZE=32 -DAITER_SWA_PROGRAMMATIC_LAUNCH=1 -Icsrc/include \
    -o /tmp/probe_reduce op_tests/gpu_calls/probe_2026-12-02c.cu && timeout 120 /tmp/probe_reduce 2>&1 | tee "$O/probe_reduce.log"
