#!/usr/bin/env bash
# 2026-12-02 (16:48 UTC session), call 1, on cf122bb's kernels (no kernel change): the benchmark's timer holds the
# stream before each timed run (testlib.pa_v1.cuda_median_ms, torch.cuda._sleep), so that the host's submission of
# a graph replay is not timed. Issue 8's table with FlashInfer 0.7.4 and vLLM 0.33's Triton unified_attention under
# the held timer; then the short rows (where a replay's submission is largest per call) with and without the hold,
# alternating, and once with 100 calls per graph instead of 20.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-02m.sh   carry: .peers   Logs: $OUT/<round>/bench_peers.log
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
t0=$SECONDS
SHORT=("mistral B1 32K w4096" "gpt-oss B64 16K w128" "gpt-oss B64 16K w128 mtp4" "seed B8 9216 w8192"
       "gemma3 B16 16K w1024")
mkdir -p "$O/held"
OUT=$O/held timeout -k 10 400 bash op_tests/run_gpu_suite.sh peers --reps 7 2>&1 | tail -40
echo "[+$((SECONDS - t0))s] held done"
# the next rounds run the benchmark as the suite's peers step does, on what it installed and pre-built
source op_tests/pa_v1/peers_env.sh
peers_env
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache AITER_SWA_PREBUILT_DIR=/tmp/kernels PYTHONUNBUFFERED=1
round() {  # $1: the round's log name under $OUT; the rest: bench args
    local name=$1; shift
    timeout -k 10 120 python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --reps 7 "$@" --rows "${SHORT[@]}" \
        >"$O/$name.log" 2>&1
    grep -E "^# device|^(mistral|gpt-oss|gemma3|seed) " "$O/$name.log" | head -12
    echo "[+$((SECONDS - t0))s] $name done"
}
round short_plain --no-hold
round short_held
round short_plain2 --no-hold
round short_held2
round short_held_calls100 --calls 100
