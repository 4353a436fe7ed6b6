#!/usr/bin/env bash
# 2026-12-02 (21:47 UTC session), call 1, on cf122bb's kernels (no kernel change): where the two missed targets'
# time goes, ours next to FlashInfer's. (1) `bench_pa_v1_swa.py --issue8 --kernels` at the no-window row, the
# Mistral window-4096 row and the two short rows: each column's kernels under torch.profiler (launches per call, µs
# per launch) after its timing. (2) Batch 1 and gpt-oss window 128 with 10, 20, 40 and 100 calls per graph, every
# column: the slope of time against calls is the per-call cost, the intercept what each replay adds once.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-02p.sh   carry: .peers   Logs: $OUT/suite/bench_peers.log, $OUT/*.log
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
t0=$SECONDS
ROWS=("mistral B32 16K off" "mistral B32 16K w4096" "mistral B1 32K w4096" "gpt-oss B64 16K w128")
mkdir -p "$O/suite"
OUT=$O/suite timeout -k 10 330 bash op_tests/run_gpu_suite.sh peers --reps 7 --kernels --rows "${ROWS[@]}" 2>&1 \
    | grep -E "^# device|^#   kernels|^(mistral|gpt-oss|gemma3|seed) |^peers:" | head -30
echo "[+$((SECONDS - t0))s] kernels done"
# the next rounds run the benchmark as the suite's peers step does, on what it installed and pre-built
source op_tests/pa_v1/peers_env.sh
peers_env
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache AITER_SWA_PREBUILT_DIR=/tmp/kernels PYTHONUNBUFFERED=1
round() {  # $1: the round's log name under $OUT; the rest: bench args
    local name=$1; shift
    timeout -k 10 60 python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --reps 7 "$@" \
        --rows "mistral B1 32K w4096" "gpt-oss B64 16K w128" >"$O/$name.log" 2>&1
    grep -E "^(mistral|gpt-oss) " "$O/$name.log" | head -2
    echo "[+$((SECONDS - t0))s] $name done"
}
for c in 10 20 40 100 20 10 40 100; do
    round "calls${c}_$SECONDS" --calls "$c"
done
