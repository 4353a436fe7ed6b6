#!/usr/bin/env bash
# 2026-12-02 (16:48 UTC session), call 3: the query rows stored into shared memory after the first K/V copies are
# issued. Batch 1's set-up barrier waits for every load issued before it, the query rows' among them (the sets of the
# benchmark's rotation have cold queries; call 2 found that sharing the metadata, so that it is hot, changes
# nothing). "lateq" (gpu_call_2026-12-02o_lateq.patch, applies to 9b28529's csrc): the warp split above head 64 (it
# reads the query rows from shared memory inside the key loop only, after the loop's first barrier) stores them
# once the first tiles' copies are issued. Prediction: batch 1 (Mistral, head 128) faster by up to one global round
# trip (about 0.5 µs) if the query's loads are the set-up's last to arrive, else unchanged; head 64 (gpt-oss)
# unchanged (not touched); the rows with long key loops unchanged. sm_90 ptxas: zero spills (126-128 registers).
# lateq not kept (docs/results.md, 2026-12-02 16:48 UTC session, call 3: batch 1 no faster, Mistral batch 32 1.7% slower).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-02o.sh   Logs: $OUT/call_lateq.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_lateq
ab_variant_patch lateq . op_tests/gpu_calls/gpu_call_2026-12-02o_lateq.patch || exit 1
for v in tree lateq; do ab_build $v; done
ab_split "tree lateq lateq tree tree lateq" --caps 0 --no-vector --rows "mistral B1 32K w4096" "mistral B4 32K w4096"
ROWS=("mistral B1 32K w4096" "mistral B32 16K w4096" "seed B8 9216 w8192" "mistral B32 16K off"
      "mistral B32 16K w4096 mtp4" "gpt-oss B64 16K w4096 mtp4")
ab_bench "tree lateq lateq tree tree lateq" --issue8 --no-peers --reps 5 --rows "${ROWS[@]}"
ab_tests lateq op_tests/pa_v1/test_pa_v1_mma_gpu.py \
    -k "graph_replay or batch_one or (mtp_grid and hs128 and (g4 or g8) and not mtp8)"
ab_done
echo "$(ab_t) all done"
