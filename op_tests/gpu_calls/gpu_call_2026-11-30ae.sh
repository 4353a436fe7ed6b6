#!/usr/bin/env bash
# 2026-11-30 (16:17 UTC session), call 2 (16:27 UTC; prepared by the 13:00 UTC session as gpu_call_next.sh) on
# 1bb20bc with call 1's two patches applied, 89 s, no carry: the split study (op_tests/pa_v1/split_study.py) of Mistral
# batch 32 at window 4096 and without a window, the rows still at FlashInfer's time or above it, on the current
# kernel (the write and the merge of that session). Both split in 2 partitions and pay the reduce kernel's 3.5 us
# (the 128K row splits as 16K does). The last study of these rows ran before both changes (2026-11-30 07:28 UTC
# session, call 3): one partition was 1.3% faster at window 4096, 4 partitions 0.8% faster without a window, and
# the split rule stayed.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30ae.sh   Logs: $OUT/split/split_study.log
set -uo pipefail
mkdir -p "${OUT:-gpu_logs}/split"
OUT=${OUT:-gpu_logs}/split SPLIT_TIMEOUT=240 timeout -k 10 290 bash op_tests/run_gpu_suite.sh split \
    --rows "mistral B32 16K off" "mistral B32 16K w4096" --caps 1 2 4 8 2>&1 | tail -30
