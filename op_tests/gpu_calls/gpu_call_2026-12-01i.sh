#!/usr/bin/env bash
# 2026-12-01 (02:28 UTC session), call 4: two changes from call 3's timeline. "new" (the working tree then:
# gpu_call_2026-12-01i_new.patch on b9a8ac2): the matrix-core reduce triggers its dependents right after its wait,
# and the partition kernel loads the context length first (before the query rows' address math: ~135 sm_90
# instructions earlier). "tw": the trigger alone (gpu_call_2026-12-01i_tw.patch). "old": b9a8ac2 (carry .ab_old =
# `git archive b9a8ac2 csrc aiter_swa/ops/pa_v1/spec.py`). Prediction: batch 1 0.2-0.3 us faster (the timeline
# gave the trigger 0.15-0.2 us of the period), one-partition rows unchanged.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01i.sh   carry: .ab_old   Logs: $OUT/call_new.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_new
ab_variant_patch tw .ab_old op_tests/gpu_calls/gpu_call_2026-12-01i_tw.patch || exit 1
ab_variant old .ab_old
ab_variant new .
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16)
for v in old new tw; do ab_build $v "${B[@]}"; done
ab_split "old new tw tw new old old new" --caps 0 --no-vector --rows "mistral B1 32K w4096" "gpt-oss B1 32K w4096"
ROWS=("mistral B1 32K w4096" "gpt-oss B64 16K w128" "mistral B32 16K w4096" "gpt-oss B64 16K w4096"
      "seed B8 9216 w8192" "mistral B32 16K off")
ab_bench "old new tw tw new old" --issue8 --no-peers --reps 5 --rows "${ROWS[@]}"
ab_done
echo "$(ab_t) all done"
