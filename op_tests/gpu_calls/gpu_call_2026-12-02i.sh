#!/usr/bin/env bash
# 2026-12-02 (14:57 UTC session), call 1: the warp split's wide workgroup at head 128 x 16 rows ("tree":
# spec.MMA_WARP_KV_WIDE, 64-key tiles over 8 warps, 4 key groups of 2 warps, 2 workgroups per SM) against
# 9099a9f ("old": 32-key tiles over 4 warps, 4 workgroups per SM; carry .ab_old = its csrc/include and spec.py).
# Per SM the same 16 warps and the same K/V bytes in flight, with half the workgroups, so the split gives one
# partition per (sequence, KV head) at Mistral batch 32 without a window (256 workgroups: no reduce, where old
# needs 2 partitions of 8K keys to fill 4 per SM) and 16 warps per SM at batch 32 with window 4096 (old: 8, one
# partition of 4-warp workgroups at 2 per SM). Prediction: the no-window row faster by about the reduce (1-3 µs),
# Mistral B32 w4096 and the seed shape faster or level, batch 1 level, gpt-oss (head 64) unchanged.
# Not kept: batch 1 and the seed shape slower (docs/results.md, 2026-12-02 14:57 UTC session, call 1). To run this
# again: on the commit that holds this script, `git apply op_tests/gpu_calls/gpu_call_2026-12-02i_wide.patch` (csrc
# and spec.py) and `rm -rf .ab_old && mkdir .ab_old && git archive 9099a9f csrc/include aiter_swa/ops/pa_v1/spec.py
# | tar -x -C .ab_old`.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-02i.sh   carry: .ab_old   Logs: $OUT/call_wide.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_wide
ab_variant old .ab_old
for v in tree old; do ab_build $v; done
ab_split "old tree tree old" --caps 0 --no-vector --rows "mistral B1 32K w4096"
ROWS=("mistral B32 16K off" "mistral B32 16K w4096" "mistral B1 32K w4096" "seed B8 9216 w8192"
      "mistral B32 16K w4096 mtp2" "mistral B32 16K w4096 mtp4" "gpt-oss B64 16K w128")
ab_bench "tree old old tree tree old" --issue8 --no-peers --reps 5 --rows "${ROWS[@]}"
ab_done
echo "$(ab_t) all done"
