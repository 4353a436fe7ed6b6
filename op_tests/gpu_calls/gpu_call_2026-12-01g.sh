#!/usr/bin/env bash
# 2026-12-01 (02:28 UTC session), call 2: where batch 1's graph-replayed call spends its time. The matrix-core
# kernels with %globaltimer stamps (gpu_call_2026-12-01g_stamps.patch on b9a8ac2, a diagnostic, not kept) and
# op_tests/pa_v1/timeline.py: per call, each partition workgroup's entry, wait release, set-up barrier, first
# tile, loop end and end, and each reduce workgroup's entry, wait release and end.
# Its patches apply to b9a8ac2's csrc, the tree it ran on: run it there (`git checkout b9a8ac2 -- csrc`).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01g.sh   Logs: $OUT/call_stamps.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_stamps
ab_variant_patch stamps . op_tests/gpu_calls/gpu_call_2026-12-01g_stamps.patch || exit 1
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16
   --sliding-window on)
ab_build stamps "${B[@]}"
for row in "mistral B1 32K w4096" "gpt-oss B1 32K w4096" "mistral B1 32K w4096"; do
    ab_each stamps "timeline " "timeline" 60 op_tests/pa_v1/timeline.py "." --row "$row"
done
ab_done
echo "$(ab_t) all done"
