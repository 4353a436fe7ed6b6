#!/usr/bin/env bash
# Session of 2026-11-29 11:28 UTC, call 3 (about 4 minutes on a fresh H200; docs/results.md): issue 8 after
# the warp split's two-barrier pipeline (the next tile's copies issued before this tile's are waited for) and
# 16-row chunks up to 32 rows (spec.MMA_WARP_KV_MAX_ROWS: gpt-oss at mtp 4), ours only:
#   1. issue 8's rows, the default dispatch;
#   2. the GQA-4 rows (Mistral; the dispatch's vector kernel at batch 32) on the matrix-core kernel (--kernel mma).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29h.sh
# Logs: $OUT/bench.tgz; stdout a summary.
set -uo pipefail
O=${OUT:-gpu_logs}
mkdir -p "$O"
O=$(cd "$O" && pwd)
L=/tmp/call_h
rm -rf "$L"
mkdir -p "$L"
t0=$SECONDS
python3 -m pip install -q --no-deps --no-build-isolation -e . >"$L/install.log" 2>&1 || tail -5 "$L/install.log"
{ python3 -m aiter_swa.jit.prebuild --arch sm_90 --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off \
      --alibi off --head-size 64,128,256 --gqa 2,4,8 --mma-rows 0 --jobs 16 --out /tmp/kernels_h \
  && python3 -m aiter_swa.jit.prebuild --arch sm_90 --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off \
      --alibi off --head-size 64,128,256 --gqa 1 --mma-rows 16 --jobs 16 --out /tmp/kernels_h; } >"$L/prebuild.log" 2>&1 \
    || tail -5 "$L/prebuild.log"
grep -E "partition_kernel" "$L/prebuild.log" | grep mma | head -8
echo "[+$((SECONDS - t0))s] pre-built"
export AITER_SWA_PREBUILT_DIR=/tmp/kernels_h
timeout -k 5 "${BENCH_LIMIT:-170}" python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers --reps 10 2>&1 \
    | grep -vE "Warning|warn_once|sync_debug" | tee "$L/bench_auto.log" | grep -vE "not measured" | tail -30
echo "[+$((SECONDS - t0))s] default dispatch done"
timeout -k 5 "${MMA_LIMIT:-100}" python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers --reps 10 --kernel mma \
    --rows "mistral B32 16K w4096" "mistral B1 32K w4096" "mistral B32 16K off" 2>&1 \
    | grep -vE "Warning|warn_once|sync_debug" | tee "$L/bench_mma_gqa4.log" | head -6
echo "[+$((SECONDS - t0))s] mma GQA 4 done"
tar czf "$O/bench.tgz" -C "$L" .
