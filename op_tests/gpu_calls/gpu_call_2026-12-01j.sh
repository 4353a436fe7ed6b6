#!/usr/bin/env bash
# 2026-12-01 (02:28 UTC session), call 5 (it ran as gpu_call_2026-12-01k.sh), on the session's final tree (b9a8ac2
# and the matrix-core reduce's trigger after its wait): issue 8's table with FlashInfer and vLLM, the one-token,
# matrix-core and robustness GPU test files, then batch 1's timeline with the set-up split in three
# (gpu_call_2026-12-01j_stamps2.patch on b9a8ac2, the trigger included: the context length's arrival, thread 0's
# first block-table entry's arrival, the barrier).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01j.sh   carry: .peers .ab_old (= `git archive b9a8ac2 csrc
# aiter_swa/ops/pa_v1/spec.py`)   Logs: $OUT/peers, $OUT/check, $OUT/call_st2.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O/peers" "$O/check"; O=$(cd "$O" && pwd)
t0=$SECONDS
OUT=$O/peers timeout -k 10 270 bash op_tests/run_gpu_suite.sh peers --reps 7 2>&1 | tail -30
echo "[+$((SECONDS - t0))s] peers done"
OUT=$O/check CHECK_TIMEOUT=200 timeout -k 10 210 bash op_tests/run_gpu_suite.sh check op_tests/pa_v1/test_pa_v1_gpu.py \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_robustness.py 2>&1 | tail -6
echo "[+$((SECONDS - t0))s] tests done"
source op_tests/gpu_calls/ab.sh
OUT=$O ab_init call_st2
ab_variant_patch st2 .ab_old op_tests/gpu_calls/gpu_call_2026-12-01j_stamps2.patch || exit 1
ab_build st2 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 128 --gqa 1 \
    --mma-rows 16 --sliding-window on
ab_each "st2 st2" "timeline " timeline 60 op_tests/pa_v1/timeline.py "^#|summary|phase" --row "mistral B1 32K w4096" \
    --stride 16
ab_done
echo "[+$((SECONDS - t0))s] all done"
