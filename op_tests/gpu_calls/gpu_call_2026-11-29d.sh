#!/usr/bin/env bash
# Session of 2026-11-29 09:31 UTC, call 3 (at most 9.5 minutes on a fresh H200; docs/results.md): issue 8
# after the matrix-core reduce took the vector reduce's batched loads and the one-token dispatch took the
# matrix-core kernel at batch 1 (spec.MMA_ONE_TOKEN_MAX_PAIRS):
#   1. the split study (run_gpu_suite.sh split): partition / reduce kernel times per forced split;
#   2. issue 8's rows with the peers in the same run (run_gpu_suite.sh peers: FlashInfer tensor-core and
#      CUDA-core, vLLM's Triton unified_attention; carry .peers);
#   3. the matrix-core and multi-token GPU tests (run_gpu_suite.sh check, the time left).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29d.sh    carry: [".peers", ".whl"]
# Logs: $OUT/split.tgz, $OUT/peers.tgz, $OUT/check.tgz; stdout a summary.
set -uo pipefail
O=${OUT:-gpu_logs}
mkdir -p "$O"
O=$(cd "$O" && pwd)
L=/tmp/call_d
rm -rf "$L"
mkdir -p "$L"
t0=$SECONDS
OUT=$L/split SPLIT_TIMEOUT=${SPLIT_TIMEOUT:-120} timeout -k 10 150 bash op_tests/run_gpu_suite.sh split 2>&1 \
    | grep -E "^(#|kernel|mma|vector|summary)" | grep -v "(= cap" | head -60
echo "[+$((SECONDS - t0))s] split done"
tar czf "$O/split.tgz" -C "$L" split
OUT=$L/peers timeout -k 10 "${PEERS_LIMIT:-270}" bash op_tests/run_gpu_suite.sh peers --reps 10 2>&1 | tail -45
echo "[+$((SECONDS - t0))s] peers done"
tar czf "$O/peers.tgz" -C "$L" peers
left=$(( ${CALL_LIMIT:-570} - (SECONDS - t0) - 15 ))
OUT=$L/check CHECK_TIMEOUT=$left timeout -k 10 $((left + 10)) bash op_tests/run_gpu_suite.sh check -v \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_mtp_gpu.py 2>&1 | tail -25
echo "[+$((SECONDS - t0))s] check done ($left s given)"
tar czf "$O/check.tgz" -C "$L" check
