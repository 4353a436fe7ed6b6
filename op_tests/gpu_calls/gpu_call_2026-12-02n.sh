#!/usr/bin/env bash
# 2026-12-02 (16:48 UTC session), call 2, on cf122bb's kernels (no kernel change), the held timer of call 1: how much
# of batch 1's time is the cold metadata of the benchmark's rotation. Ours alone (--no-peers), rounds alternating
# between the benchmark's rotation (every set its own block table, context lengths and workspace: cold in L2 when the
# set comes round again) and --shared-metadata (the sets share set 0's, as a decode step's layers do; each set keeps
# its own caches, query and output).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-02n.sh   carry: none   Logs: $OUT/*.log
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
t0=$SECONDS
ROWS=("mistral B1 32K w4096" "gpt-oss B64 16K w128" "gpt-oss B64 16K w128 mtp4" "seed B8 9216 w8192"
      "mistral B32 16K w4096")
# the first round installs and pre-builds (the suite's peers step, no peers carried)
mkdir -p "$O/suite"
OUT=$O/suite timeout -k 10 300 bash op_tests/run_gpu_suite.sh peers --reps 7 --no-peers --rows "${ROWS[@]}" 2>&1 \
    | grep -E "^# device|^(mistral|gpt-oss|gemma3|seed) " | head -8
echo "[+$((SECONDS - t0))s] rotating (suite) done"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache AITER_SWA_PREBUILT_DIR=/tmp/kernels PYTHONUNBUFFERED=1
round() {  # $1: the round's log name under $OUT; the rest: bench args
    local name=$1; shift
    timeout -k 10 120 python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers --reps 7 "$@" --rows "${ROWS[@]}" \
        >"$O/$name.log" 2>&1
    grep -E "^(mistral|gpt-oss|gemma3|seed) " "$O/$name.log" | head -8
    echo "[+$((SECONDS - t0))s] $name done"
}
round shared1 --shared-metadata
round rotating2
round shared2 --shared-metadata
round rotating3
round shared3 --shared-metadata
