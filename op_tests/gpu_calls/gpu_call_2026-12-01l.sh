#!/usr/bin/env bash
# 2026-12-01 (02:28 UTC session), call 7: the second reading's split_study.py and timeline.py (rotating_inputs,
# aiter_workspace_bytes) on the GPU: the split study of batch 1 on the tree, then the timeline on b9a8ac2 with
# gpu_call_2026-12-01j_stamps2.patch (carry .ab_old = `git archive b9a8ac2 csrc aiter_swa/ops/pa_v1/spec.py`).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01l.sh   carry: .ab_old   Logs: $OUT/call_verify.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_verify
ab_variant_patch st2 .ab_old op_tests/gpu_calls/gpu_call_2026-12-01j_stamps2.patch || exit 1
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 128 --gqa 1 --mma-rows 16 --sliding-window on)
for v in tree st2; do ab_build $v "${B[@]}"; done
ab_split "tree" --caps 0 --no-vector --rows "mistral B1 32K w4096"
ab_each "st2" "timeline " timeline 60 op_tests/pa_v1/timeline.py "^#|summary" --row "mistral B1 32K w4096" --stride 16
ab_done
