#!/usr/bin/env bash
# 2026-12-01 (07:53 UTC session), call 4, on the final tree (ffdf925's kernels): the no-window Mistral row measured
# 500-502 us in both peers runs of the day and 486-490 us in the A-B runs without peers. Same rows, same process
# settings, alternating: bench --issue8 with the peers (FlashInfer and vLLM imported and timed after ours, per row)
# and with --no-peers, for "mistral B32 16K off" and "mistral B32 16K w4096".
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01u.sh   carry: .peers   Logs: $OUT/peers, $OUT/order.log
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O/peers"; O=$(cd "$O" && pwd)
t0=$SECONDS
ROWS=(--rows "mistral B32 16K off" "mistral B32 16K w4096")
OUT=$O/peers timeout -k 10 300 bash op_tests/run_gpu_suite.sh peers --reps 7 "${ROWS[@]}" 2>&1 | grep -E "^mistral|copy"
echo "[+$((SECONDS - t0))s] peers done"
export FLASHINFER_DISABLE_JIT=1 FLASHINFER_WORKSPACE_BASE=/tmp/flashinfer_ws TRITON_CACHE_DIR=/tmp/triton_cache_peers
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache AITER_SWA_PREBUILT_DIR=/tmp/kernels PYTHONUNBUFFERED=1
for round in 1 2; do
  for mode in no-peers peers; do
    flag=(); [ $mode = no-peers ] && flag=(--no-peers)
    echo "== round $round, $mode [+$((SECONDS - t0))s]"
    timeout 120 python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --reps 7 "${flag[@]}" "${ROWS[@]}" 2>&1 \
        | grep -E "^mistral|copy|MISMATCH|rror"
  done
done 2>&1 | tee "$O/order.log"
echo "[+$((SECONDS - t0))s] all done"
