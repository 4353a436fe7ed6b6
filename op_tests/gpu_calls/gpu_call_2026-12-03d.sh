#!/usr/bin/env bash
# 2026-12-03 (10:09 UTC session), call 1: an L2 prefetch size on the matrix-core kernel's K/V copies. The ring's
# cp.async (async_copy.h) gains the PTX ISA's `.L2::128B` ("p128", gpu_call_2026-12-03d_l2pf128.patch) or
# `.L2::256B` ("p256", _l2pf256.patch) prefetch-size qualifier: on an L2 miss the L2 may fetch that much around the
# requested sector (sm_90 SASS: LDGSTS.E.BYPASS.LTC128B.128 instead of LDGSTS.E.BYPASS.128; nothing else changes).
# FlashInfer's K/V copies carry `.L2::128B` (its cp_async.cuh, prefetch mode). Question: is this the 0.6% of DRAM
# rate by which FlashInfer's kernel read the no-window row's same bytes faster (Nsight Compute, 2026-12-02)?
# Prediction: the no-window row and Mistral B32 w4096 (DRAM-bound, 97% of copy) 0-1% faster if so; batch 1 and
# gpt-oss window 128 (latency-bound) unchanged. (1) the five rows without a peer, rounds tree p128 p256 p256 p128
# tree tree p128 p256; (2) the no-window row with the peer columns, rounds tree p128 p256 p256 p128 tree.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-03d.sh   carry: .peers   Logs: $OUT/call_l2pf.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_l2pf
ab_variant_patch p128 . op_tests/gpu_calls/gpu_call_2026-12-03d_l2pf128.patch || exit 1
ab_variant_patch p256 . op_tests/gpu_calls/gpu_call_2026-12-03d_l2pf256.patch || exit 1
for v in tree p128 p256; do ab_build $v; done
source op_tests/pa_v1/peers_env.sh
peers_install "$AB_L/install_peers.log"
peers_env
ROWS=("mistral B32 16K w4096" "mistral B1 32K w4096" "gpt-oss B64 16K w128" "gpt-oss B64 16K w4096"
      "seed B8 9216 w8192")
ab_bench "tree p128 p256 p256 p128 tree tree p128 p256" --issue8 --no-peers --reps 7 --rows "${ROWS[@]}"
ab_bench "tree p128 p256 p256 p128 tree" --issue8 --reps 7 --rows "mistral B32 16K off"
ab_done
echo "$(ab_t) all done"
