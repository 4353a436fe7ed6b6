#!/usr/bin/env bash
# 2026-12-03 (12:27 UTC session), call 1: the warp split at head 128 x 16 rows with FlashInfer's shape of
# workgroup: 4 warps on 64-key tiles (4 key groups of one warp, each warp all 128 columns of O: 64 accumulators
# per lane), 2 workgroups per SM (launch bound and split wave), against the tree's 4 warps on 32-key tiles at 4
# per SM. Only spec.py changes (mma_key_tile 64, mma_workgroups_per_sm 2 at (128, 16)); the kernel source already
# takes KV_GROUPS = 4 (sm_90 ptxas, this session: 224 / 232 registers without / with the window, zero spills).
# "kt64": the ring's 3 stages (96 KiB of K/V, 2 tiles in flight, the same K/V bytes in flight per SM as the tree);
# "kt64s2": 2 stages (64 KiB, one tile in flight: FlashInfer's budget, 69.6 KB and 182 registers, per
# docs/results.md 2026-12-02 21:47 UTC session). At 2 per SM the split gives the no-window row (256 (sequence,
# KV head) pairs) one partition and no reduce, as FlashInfer's main kernel runs there. The question: does the
# no-window row read at FlashInfer's rate in this form? Prediction: the no-window row 0-1% faster (the wide
# 8-warp form of 2026-12-02 was 0.3% faster), batch 1 and the seed shape slower (as the wide form).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-03g.sh   carry: .peers   Logs: $OUT/call_kt64.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_kt64
KT64=("        return 16 * 4 * 64 // head_size"
      "        return 64 if (head_size, rows) == (128, 16) else 16 * 4 * 64 // head_size"
      "        return 4 * MMA_WARP_KV_ROWS[0] // rows"
      "        return 2 if (head_size, rows) == (128, 16) else 4 * MMA_WARP_KV_ROWS[0] // rows")
ab_variant_spec_edit kt64 "${KT64[@]}" || exit 1
ab_variant_spec_edit kt64s2 "${KT64[@]}" "            return stages" \
    "            return 2 if (head_size, rows) == (128, 16) else stages" || exit 1
for v in tree kt64 kt64s2; do ab_build $v --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off \
    --alibi off --head-size 128 --gqa 1 --mma-rows 16,32; done
grep -h "mma_partition_kernel" "$AB_L"/prebuild_*.log | head -12
source op_tests/pa_v1/peers_env.sh
peers_install "$AB_L/install_peers.log"
peers_env
ROWS=("mistral B32 16K off" "mistral B32 16K w4096" "mistral B1 32K w4096" "seed B8 9216 w8192")
ab_bench "tree kt64 kt64s2 kt64s2 kt64 tree" --issue8 --no-peers --reps 7 --rows "${ROWS[@]}"
ab_bench "tree kt64 kt64s2 kt64s2 kt64 tree" --issue8 --reps 7 --rows "mistral B32 16K off"
ab_done
echo "$(ab_t) all done"
