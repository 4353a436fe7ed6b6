#!/usr/bin/env bash
# 2026-12-02 (14:57 UTC session), call 3, on the tree's kernels (cf122bb's: the K/V copies' L2 evict_first policy):
# issue 8's table with FlashInfer 0.7.4 and vLLM 0.33's Triton unified_attention (op_tests/pa_v1/fetch_peers.sh),
# one run (the last ran on ffdf925's kernels, 2026-12-01 07:53 UTC session, call 3).
# The same commands as gpu_call_2026-12-01t.sh (run again on these kernels).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-02k.sh   carry: .peers   Logs: $OUT/peers
exec bash "$(dirname "${BASH_SOURCE[0]}")/gpu_call_2026-12-01t.sh" "$@"
