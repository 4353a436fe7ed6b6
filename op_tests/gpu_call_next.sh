#!/usr/bin/env bash
# Prepared in the session of 2026-11-29 11:28 UTC (which had no device time left) for the next session's first
# GPU call; it ran as the 14:39 UTC session's call 1 (docs/results.md), 461 s on a fresh H200 (each step bounded):
#   1. the tests that failed in that session's whole-tree run, after their fixes (the matrix-core kernel at
#      extreme soft caps; the growing max_context_len with the self-check), the matrix-core and multi-token
#      GPU tests, the self-check through a real kernel, and causal_conv1d's GPU tests with the walk variant
#      (bit identity with the default in both layouts, graph replay);
#   2. causal_conv1d's benchmark (the seed's batch, the long prefill in both layouts, the 128-byte-row control)
#      with the walking kernel (walk=1) beside the default in both layouts: issue 12's open target;
#   3. issue 8's rows with the peers (FlashInfer, vLLM's Triton) in the same run.
# run: bash op_tests/gpu_call_next.sh    carry: [".peers"]
# Logs: $OUT/check.tgz, $OUT/conv1d.tgz, $OUT/peers.tgz; stdout a summary.
set -uo pipefail
O=${OUT:-gpu_logs}
mkdir -p "$O"
O=$(cd "$O" && pwd)
L=/tmp/call_next
rm -rf "$L"
mkdir -p "$L"
t0=$SECONDS
OUT=$L/check CHECK_TIMEOUT=${CHECK_LIMIT:-170} timeout -k 10 190 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_robustness.py op_tests/pa_v1/test_pa_v1_validation.py op_tests/pa_v1/test_pa_v1_mma_gpu.py \
    op_tests/pa_v1/test_pa_v1_mtp_gpu.py op_tests/causal_conv1d/test_causal_conv1d_gpu.py 2>&1 | tail -12
echo "[+$((SECONDS - t0))s] check done"
tar czf "$O/check.tgz" -C "$L" check
OUT=$L/conv1d CONV1D_STEPS=bench timeout -k 10 "${CONV1D_LIMIT:-170}" bash op_tests/run_gpu_suite.sh conv1d --iters 300 2>&1 \
    | grep -E "^impl|^aiter_swa|^triton|MET|MISSED|device NVIDIA|conv1d:|long prefill" | grep -v "seed's 95 us: MISSED" | head -40
echo "[+$((SECONDS - t0))s] conv1d done"
tar czf "$O/conv1d.tgz" -C "$L" conv1d
OUT=$L/peers timeout -k 10 "${PEERS_LIMIT:-200}" bash op_tests/run_gpu_suite.sh peers --reps 10 2>&1 | tail -42
echo "[+$((SECONDS - t0))s] peers done"
tar czf "$O/peers.tgz" -C "$L" peers
