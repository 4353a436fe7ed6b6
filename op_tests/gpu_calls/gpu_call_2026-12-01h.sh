#!/usr/bin/env bash
# 2026-12-01 (02:28 UTC session), call 3: batch 1's timeline (timeline.py, %globaltimer stamps: call 2's
# gpu_call_2026-12-01g_stamps.patch) for four forms. "stamps": b9a8ac2's kernels; "specst": with the speculative
# block-table read of 2026-12-01 call 3 (gpu_call_2026-12-01c_spec.patch; does the set-up lose one round trip?);
# "trig": the reduce triggers its dependents at its start (gpu_call_2026-12-01h_trig.patch on stamps; where do the
# next call's workgroups land?); "trigw": after its wait (_trigw.patch). Diagnostics, none a candidate as it is.
# Its patches apply to b9a8ac2's csrc, the tree it ran on: run it there (`git checkout b9a8ac2 -- csrc`).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01h.sh   Logs: $OUT/call_tl.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_tl
ab_variant_patch stamps . op_tests/gpu_calls/gpu_call_2026-12-01g_stamps.patch || exit 1
ab_variant_patch spec . op_tests/gpu_calls/gpu_call_2026-12-01c_spec.patch || exit 1
ab_variant_patch specst /tmp/ab_patch_spec op_tests/gpu_calls/gpu_call_2026-12-01g_stamps.patch || exit 1
ab_variant_patch trig /tmp/ab_patch_stamps op_tests/gpu_calls/gpu_call_2026-12-01h_trig.patch || exit 1
ab_variant_patch trigw /tmp/ab_patch_stamps op_tests/gpu_calls/gpu_call_2026-12-01h_trigw.patch || exit 1
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 128 --gqa 1 --mma-rows 16
   --sliding-window on)
for v in stamps specst trig trigw; do ab_build $v "${B[@]}"; done
F="^#|summary|phase"
ab_each "stamps specst trig trigw trigw trig specst stamps" "timeline " timeline 60 op_tests/pa_v1/timeline.py "$F" \
    --row "mistral B1 32K w4096"
ab_done
echo "$(ab_t) all done"
