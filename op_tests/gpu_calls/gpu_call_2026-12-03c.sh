#!/usr/bin/env bash
# 2026-12-03 (06:12 UTC session), call 3, on the kept reduce (call 1's form of lse.h lse_merge: every chunk over all
# 32 entries; call 2's bounded form was 1.3 µs slower at batch 1 and is not kept). (1) Issue 8's table with
# FlashInfer 0.7.4 and vLLM 0.33's Triton unified_attention (`run_gpu_suite.sh peers --reps 7`, held timer). (2) The
# GPU tests of the reduce on these kernels (both kernels over many partitions, batch 1, graph replay, no host sync,
# the multi-token grid's GQA 4 and 8 at head 128, test_pa_v1_gpu.py). (3) The many-partition test under
# compute-sanitizer memcheck (both kernels) and racecheck (the vector kernel's).
# run: bash op_tests/gpu_calls/gpu_call_2026-12-03c.sh   carry: .peers   Logs: $OUT/suite/bench_peers.log, $OUT/*.log
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
t0=$SECONDS
mkdir -p "$O/suite"
OUT=$O/suite timeout -k 10 360 bash op_tests/run_gpu_suite.sh peers --reps 7 2>&1 \
    | grep -E "^# device|^# copy|^(mistral|gpt-oss|gemma3|seed) |^  |^peers:|MISMATCH|rror" | head -60
echo "[+$((SECONDS - t0))s] peers done"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache PYTHONUNBUFFERED=1
N=(); python3 -c "import xdist" 2>/dev/null && N=(-n 8)
timeout -k 5 150 python3 -m pytest -q -p no:cacheprovider "${N[@]}" op_tests/pa_v1/test_pa_v1_mma_gpu.py \
    op_tests/pa_v1/test_pa_v1_gpu.py \
    -k "many_partitions or graph or batch_one or no_host or aiter_sized or gqa4_route or (mtp_grid and hs128 and (g4 or g8) and not mtp8)" \
    >"$O/tests.log" 2>&1
tail -1 "$O/tests.log"; echo "[+$((SECONDS - t0))s] tests done"
# memcheck: both kernels; racecheck (the reduce's shared memory): the vector kernel's cases, as in call 2
for tool in memcheck racecheck; do
    sel="many_partitions"; [ $tool = racecheck ] && sel="many_partitions and vector"
    timeout -k 5 90 env PYTORCH_NO_CUDA_MEMORY_CACHING=1 compute-sanitizer --tool $tool --error-exitcode 3 \
        python3 -m pytest -q -p no:cacheprovider op_tests/pa_v1/test_pa_v1_mma_gpu.py -k "$sel" \
        >"$O/$tool.log" 2>&1
    echo "$tool exit $?"; grep -E "ERROR SUMMARY|RACECHECK SUMMARY|passed|failed" "$O/$tool.log" | tail -3
done
echo "[+$((SECONDS - t0))s] all done"
