#!/usr/bin/env bash
# Session of 2026-11-29 09:31 UTC, call 6 (about 3 minutes on a fresh H200; docs/results.md): the K/V ring
# for head 64 x 32 rows (spec.mma_ring: gpt-oss at mtp 4), issue 8's gpt-oss rows at mtp 1 and 4, ours only
# (each multi-token output checked against the float32 reference by the benchmark).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29e.sh
set -uo pipefail
python3 -m pip install -q --no-deps --no-build-isolation -e . >/tmp/install_e.log 2>&1 || tail -5 /tmp/install_e.log
python3 -m aiter_swa.jit.prebuild --arch sm_90 --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off \
    --alibi off --sliding-window on --head-size 64 --gqa 1 --mma-rows 16,32 --jobs 4 --out /tmp/kernels_e 2>&1 | grep -E "partition|ready"
AITER_SWA_PREBUILT_DIR=/tmp/kernels_e timeout -k 5 "${BENCH_LIMIT:-120}" python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers \
    --reps 10 --rows "gpt-oss B64 16K w4096" "gpt-oss B64 16K w4096 mtp2" "gpt-oss B64 16K w4096 mtp4" "gpt-oss B64 16K w128" \
    "gpt-oss B64 16K w128 mtp4" 2>&1 | grep -vE "Warning|warn_once|sync_debug" | tail -22
