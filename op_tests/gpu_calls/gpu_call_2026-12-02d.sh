#!/usr/bin/env bash
# 2026-12-02 (07:05 UTC session), call 1: batch 1's set-up round trips turned into L2 hits. Since the 2026-12-01
# 02:28 UTC session the matrix-core reduce triggers its dependent (the next call's partition kernel) right after
# its wait, so that kernel is resident about 1 us before its own wait releases, doing nothing. "pf"
# (gpu_call_2026-12-02d_pf.patch): in that time it prefetches into L2 (prefetch.global.L2, no data used) the
# lines it reads first, its partition guessed from max_context_len: the context length, the partition's
# block-table entries, the chunk's query rows. "pfkv" (_pfkv.patch): pf, and the K and V rows of the first
# STAGES - 1 key tiles, their block ids read with ld.global.cg by the last warps (range-checked). These are the
# 2026-12-01 session's pf and pfkv without the change that made them lose there (the reduce triggering at its
# start, 3 partition workgroups on some SMs). Prediction: pf batch 1 10.4 -> ~10.0 us; pfkv ~9.6 (the first
# tiles, half of batch 1's 16.8 MB, stream during the reduce); rows with one partition unchanged.
# Not kept (docs/results.md, 2026-12-02 07:05 UTC session, call 1). The patches apply to 3c96d91's csrc.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-02d.sh   Logs: $OUT/call_pf2.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_pf2
ab_variant_patch pf . op_tests/gpu_calls/gpu_call_2026-12-02d_pf.patch || exit 1
ab_variant_patch pfkv . op_tests/gpu_calls/gpu_call_2026-12-02d_pfkv.patch || exit 1
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16)
for v in tree pf pfkv; do ab_build $v "${B[@]}"; done
grep -hiE "spill" "$AB_L"/prebuild_*.log | head -3
ab_split "tree pf pfkv pfkv pf tree tree pf pfkv" --caps 0 --no-vector --rows "mistral B1 32K w4096" "gpt-oss B1 32K w4096"
ROWS=("mistral B1 32K w4096" "gpt-oss B64 16K w128" "mistral B32 16K w4096" "gpt-oss B64 16K w4096"
      "seed B8 9216 w8192" "mistral B32 16K off")
ab_bench "tree pfkv pf pf pfkv tree" --issue8 --no-peers --reps 5 --rows "${ROWS[@]}"
ab_done
echo "$(ab_t) all done"
