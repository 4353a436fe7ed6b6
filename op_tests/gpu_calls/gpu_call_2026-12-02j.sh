#!/usr/bin/env bash
# 2026-12-02 (14:57 UTC session), call 2, on the tree's kernels (cf122bb's: the K/V copies' L2 evict_first policy;
# the last memcheck ran on ffdf925's, 2026-12-01 21:46 UTC session): the robustness suite with that session's
# budgets (hostile metadata and the first fuzz configurations under compute-sanitizer memcheck, the differential
# fuzz, the soak).
# The same commands as gpu_call_2026-12-01w.sh (run again on these kernels).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-02j.sh   carry: none   Logs: $OUT/robust
exec bash "$(dirname "${BASH_SOURCE[0]}")/gpu_call_2026-12-01w.sh" "$@"
