#!/usr/bin/env bash
# Session of 2026-11-29 11:28 UTC, call 2 (about 7 minutes on a fresh H200; docs/results.md): issue 8 after the
# matrix-core kernel's warp split (spec.mma_warp_kv: 16 rows, heads 64 and 128, sm_80+ 16-bit KV):
#   1. issue 8's rows with the peers in the same run (run_gpu_suite.sh peers: FlashInfer tensor-core and
#      CUDA-core, vLLM's Triton unified_attention; carry .peers), the default dispatch;
#   2. meant as the GQA-4 rows (Mistral) on the matrix-core kernel, but it set AITER_SWA_PA_KERNEL=mma, which
#      the benchmark's own --kernel (default auto) overrides: it ran the dispatch's kernels again (the
#      next call, gpu_call_2026-11-29h.sh, passes --kernel mma).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29g.sh    carry: [".peers"]
# Logs: $OUT/peers.tgz; stdout a summary.
set -uo pipefail
O=${OUT:-gpu_logs}
mkdir -p "$O"
O=$(cd "$O" && pwd)
L=/tmp/call_g
rm -rf "$L"
mkdir -p "$L"
t0=$SECONDS
OUT=$L/peers timeout -k 10 "${PEERS_LIMIT:-300}" bash op_tests/run_gpu_suite.sh peers --reps 10 2>&1 | tail -45
echo "[+$((SECONDS - t0))s] peers done"
AITER_SWA_PA_KERNEL=mma AITER_SWA_PREBUILT_DIR=/tmp/kernels timeout -k 5 "${MMA_LIMIT:-150}" \
    python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers --reps 10 --rows "mistral B32 16K w4096" \
    "mistral B1 32K w4096" "mistral B32 16K off" 2>&1 | grep -vE "Warning|warn_once|sync_debug" | tee "$L/peers/bench_mma_gqa4.log" | tail -14
echo "[+$((SECONDS - t0))s] mma GQA 4 done"
tar czf "$O/peers.tgz" -C "$L" peers
