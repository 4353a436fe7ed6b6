#!/usr/bin/env bash
# 2026-12-02 (07:05 UTC session), call 2: call 1's "pf" (gpu_call_2026-12-02d_pf.patch) gained batch 1 0.17 us where
# the previous call's reduce launches the partition kernel early, but cost the one-partition rows (nothing launches
# them early) up to 0.8 us: its prefetches and their address math run before the wait in every thread. "pflw"
# (gpu_call_2026-12-02e_pflw.patch): the same prefetches issued by the last warp alone, whose own set-up loads
# are not on the set-up's critical path (the context length, then warp 0's block-table entries). Prediction:
# batch 1 as pf (10.2 us), the one-partition rows as the tree.
# Not kept (docs/results.md, 2026-12-02 07:05 UTC session, call 2). The patches apply to 3c96d91's csrc.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-02e.sh   Logs: $OUT/call_pflw.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_pflw
ab_variant_patch pf . op_tests/gpu_calls/gpu_call_2026-12-02d_pf.patch || exit 1
ab_variant_patch pflw . op_tests/gpu_calls/gpu_call_2026-12-02e_pflw.patch || exit 1
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16)
for v in tree pf pflw; do ab_build $v "${B[@]}"; done
ab_split "tree pflw pf pf pflw tree tree pflw" --caps 0 --no-vector --rows "mistral B1 32K w4096" "gpt-oss B1 32K w4096"
ROWS=("mistral B1 32K w4096" "gpt-oss B64 16K w128" "mistral B32 16K w4096" "gpt-oss B64 16K w4096"
      "seed B8 9216 w8192" "mistral B32 16K off")
ab_bench "tree pflw pf pflw tree tree pflw" --issue8 --no-peers --reps 5 --rows "${ROWS[@]}"
ab_done
echo "$(ab_t) all done"
