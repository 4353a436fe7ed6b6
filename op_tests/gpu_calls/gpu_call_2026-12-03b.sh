#!/usr/bin/env bash
# 2026-12-03 (06:12 UTC session), call 2: the reduce's merge of call 1 with its work bounded by the chunk's count
# (lse.h lse_merge_chunk<8> where a chunk has at most 8 partitions, else <32>). Call 1's form read and summed all 32
# entries of every chunk: batch 1 0.1-0.2 µs faster, the seed shape 0.2-0.3, but Gemma-3's reduce (4 partitions, 8
# warps per workgroup, the vector kernel) 0.2 µs slower, its extra instructions at about 16 warps per SM. Rounds of
# the tree against "old" (gpu_call_2026-12-03b_oldreduce.patch: the tree's csrc with the change undone), the same
# rows as call 1. Then the GPU tests on the tree's kernels (both kernels' reduce over many partitions, batch 1, graph
# replay, the multi-token grid's GQA 4 and 8 at head 128, test_pa_v1_gpu.py), and the many-partition test under
# compute-sanitizer memcheck and racecheck (the segment's shared memory, rewritten from chunk to chunk).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-03b.sh   Logs: $OUT/call_lse2.tgz, $OUT/memcheck.log, $OUT/racecheck.log
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_lse2
ab_variant_patch old . op_tests/gpu_calls/gpu_call_2026-12-03b_oldreduce.patch || exit 1
GEMMA=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 256 --gqa 2
       --mma-rows 0 --sliding-window on)
for v in tree old; do ab_build $v; ab_build $v "${GEMMA[@]}"; done
ROWS=("mistral B1 32K w4096" "seed B8 9216 w8192" "gemma3 B16 16K w1024" "mistral B32 16K off"
      "mistral B32 16K w4096" "gpt-oss B64 16K w128")
ab_bench "old tree tree old old tree tree old" --issue8 --no-peers --reps 7 --rows "${ROWS[@]}"
N=(); python3 -c "import xdist" 2>/dev/null && N=(-n 8)  # the tests' kernels compile on 8 workers where it can
ab_tests tree "${N[@]}" op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_gpu.py \
    -k "many_partitions or graph or batch_one or no_host or aiter_sized or gqa4_route or (mtp_grid and hs128 and (g4 or g8) and not mtp8)"
ab_use tree
for tool in memcheck racecheck; do
    echo "== $tool $(ab_t)"
    timeout -k 5 150 env PYTORCH_NO_CUDA_MEMORY_CACHING=1 compute-sanitizer --tool $tool --error-exitcode 3 \
        python3 -m pytest -q -p no:cacheprovider op_tests/pa_v1/test_pa_v1_mma_gpu.py -k "many_partitions and vector" \
        >"$AB_O/$tool.log" 2>&1
    echo "$tool exit $?"; grep -E "ERROR SUMMARY|RACECHECK SUMMARY|passed|failed" "$AB_O/$tool.log" | tail -3
done
ab_done
echo "$(ab_t) all done"
