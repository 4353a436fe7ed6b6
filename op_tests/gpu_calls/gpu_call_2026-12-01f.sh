#!/usr/bin/env bash
# 2026-12-01 (02:28 UTC session), call 1: batch 1's set-up latency hidden behind the previous kernel. The partition
# kernel, a programmatic dependent launch, prefetches into L2 before its griddepcontrol.wait the lines it reads
# first (the context length, the partition's block-table entries, the chunk's query rows: "pf"; and the K and V
# rows of its first two key tiles, their ids read with ld.global.cg and range-checked: "pfkv"), and the matrix-core
# reduce triggers its dependents at its start, so that the next call's partition kernel takes free slots while this
# call's kernels run (patches gpu_call_2026-12-01f_{pf,pfkv}.patch on b9a8ac2; the tree is b9a8ac2's kernels).
# Prediction: the context length's and the block table's DRAM round trips (~0.7 us each) become L2 hits: batch 1
# 10.5 -> ~9.8 us (pf), and ~9.4 with the first tiles in L2 (pfkv); one-partition rows unchanged.
# Rounds of split_study.py on both batch-1 rows, then issue 8's rows.
# Its patches apply to b9a8ac2's csrc, the tree it ran on: run it there (`git checkout b9a8ac2 -- csrc`).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01f.sh   Logs: $OUT/call_pf.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_pf
ab_variant_patch pf . op_tests/gpu_calls/gpu_call_2026-12-01f_pf.patch || exit 1
ab_variant_patch pfkv . op_tests/gpu_calls/gpu_call_2026-12-01f_pfkv.patch || exit 1
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16)
for v in tree pf pfkv; do ab_build $v "${B[@]}"; done
grep -hiE "spill" "$AB_L"/prebuild_*.log | head -3
ab_split "tree pf pfkv pfkv pf tree tree pfkv" --caps 0 --no-vector --rows "mistral B1 32K w4096" "gpt-oss B1 32K w4096"
ROWS=("mistral B1 32K w4096" "gpt-oss B64 16K w128" "mistral B32 16K w4096" "gpt-oss B64 16K w4096"
      "seed B8 9216 w8192" "mistral B32 16K off")
ab_bench "tree pfkv pf pf pfkv tree" --issue8 --no-peers --reps 5 --rows "${ROWS[@]}"
ab_done
echo "$(ab_t) all done"
