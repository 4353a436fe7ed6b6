#!/usr/bin/env bash
# 2026-12-02 (12:48 UTC session), call 2: L2 eviction priorities. Batch 1's set-up is two dependent global round
# trips (the context length, then the block table) before the first K/V copy (docs/design.md, "Batch 1's call on a
# timeline"); the K/V stream of the calls between two uses of the same metadata evicts it from L2. "ef"
# (gpu_call_2026-12-02g_ef.patch): the matrix-core ring's K/V copies (cp.async) carry an L2 evict_first policy
# (PTX ISA, "createpolicy", "cp.async" .L2::cache_hint), so that they leave before other lines; "efl"
# (_efl.patch): ef, and the context length and the block-table entries loaded with an evict_last policy (what
# would also keep them against other kernels' streams in a serving engine). Prediction: batch 1 faster by up to
# 2 x (HBM round trip - L2 round trip), the rows with a long key loop unchanged. The patches apply to 0833709's csrc.
# ef kept (async_copy.h), efl not (docs/results.md, 2026-12-02 12:48 UTC session, call 2).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-02g.sh   Logs: $OUT/call_ef.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_ef
ab_variant_patch ef . op_tests/gpu_calls/gpu_call_2026-12-02g_ef.patch || exit 1
ab_variant_patch efl . op_tests/gpu_calls/gpu_call_2026-12-02g_efl.patch || exit 1
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1
   --mma-rows 16,32)
for v in tree ef efl; do ab_build $v "${B[@]}"; done
ab_split "tree ef efl efl ef tree tree ef efl" --caps 0 --no-vector --rows "mistral B1 32K w4096" "gpt-oss B1 32K w4096"
ROWS=("mistral B1 32K w4096" "gpt-oss B64 16K w128" "mistral B32 16K w4096" "gpt-oss B64 16K w4096"
      "seed B8 9216 w8192" "mistral B32 16K off" "mistral B32 16K w4096 mtp4" "gpt-oss B64 16K w4096 mtp4")
ab_bench "tree ef efl efl ef tree" --issue8 --no-peers --reps 5 --rows "${ROWS[@]}"
ab_done
echo "$(ab_t) all done"
