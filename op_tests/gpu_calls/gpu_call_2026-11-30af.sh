#!/usr/bin/env bash
# 2026-11-30 (16:17 UTC session), call 3 (16:31 UTC; 193 s, no carry): where does one partition (no reduce kernel) beat the
# split's two or more? Call 2 (gpu_call_2026-11-30ae.sh) found Mistral B32 16K at window 4096 3% faster with one partition
# (133.6 against 137.4 us) and 7% slower without a window (535.0 against 500.4). The split study
# (op_tests/pa_v1/split_study.py) of the rows around it: spans 2048 and 8192 at batch 32, no window at 8K, batches
# 24 and 16 at window 4096, Gemma-3's row; caps 1 2 4 8.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30af.sh   Logs: $OUT/split/split_study.log
set -uo pipefail
mkdir -p "${OUT:-gpu_logs}/split"
OUT=${OUT:-gpu_logs}/split SPLIT_TIMEOUT=330 timeout -k 10 380 bash op_tests/run_gpu_suite.sh split \
    --rows "mistral B32 16K w2048" "mistral B32 16K w8192" "mistral B32 8K off" "mistral B24 16K w4096" \
    "mistral B16 16K w4096" "gemma3 B16 16K w1024" --caps 1 2 4 8 2>&1 | grep -v "UserWarning\|_warn_once" | tail -60
