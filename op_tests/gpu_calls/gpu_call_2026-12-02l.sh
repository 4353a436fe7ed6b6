#!/usr/bin/env bash
# 2026-12-02 (14:57 UTC session), call 4: the no-window row (Mistral B32 16K, 2 partitions of 8K keys, 1024 reduce
# workgroups), the one row of issue 8's table still slower than FlashInfer's tensor-core decode (call 3: 499.8 µs
# against 497.4). "pdl8": spec.PROGRAMMATIC_REDUCE_MAX_WORKGROUPS_PER_CU 6 -> 8, so that its reduce (7.8 workgroups
# per SM) is a programmatic dependent launch of the partition kernel, as every smaller reduce grid already is
# (2026-11-30 19:11 UTC session: faster by 0.7-4.5 µs in the split study, 0.8% slower and 0.3-1% faster in two
# benchmark runs, inside the row's spread; kept at 6 then). Interleaved rounds with the peers' columns in every
# round (FlashInfer from the carried wheel, FLASHINFER_DISABLE_JIT=1), so each of ours has a FlashInfer time of its own.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-02l.sh   carry: .peers   Logs: $OUT/call_pdl8.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_pdl8
ab_variant_spec_edit pdl8 "PROGRAMMATIC_REDUCE_MAX_WORKGROUPS_PER_CU = 6" "PROGRAMMATIC_REDUCE_MAX_WORKGROUPS_PER_CU = 8" \
    || exit 1
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 128 --gqa 1 --mma-rows 16)
for v in tree pdl8; do ab_build $v "${B[@]}"; done
source op_tests/pa_v1/peers_env.sh  # the carried peer wheels and FlashInfer's environment, as run_gpu_suite.sh peers
peers_install "$AB_L/install_peers.log"
peers_env
echo "$(ab_t) peers installed"
ab_bench "tree pdl8 pdl8 tree tree pdl8 pdl8 tree" --issue8 --reps 7 --rows "mistral B32 16K off"
ab_done
echo "$(ab_t) all done"
