#!/usr/bin/env bash
# 2026-12-03 (12:27 UTC session), call 3, on 118f467 (the long form and the convert8 fold). (1) The long form's GPU
# test again with a case of ALiBi and the NHD layout added (test_pa_v1_mma_gpu.py test_long_form: fp16 / bf16,
# windows, mtp 1 and 4 with mixed query lengths, sinks, soft cap, with and without the reduce); every head-128 x
# 16-row kernel pre-built first (16 jobs), so no test compiles. (2) Issue 8's last target, "no shape of the
# existing benchmark table slower than before this issue (same run)", at the rows the long form changes (Mistral
# and the seed shape; gpt-oss's head 64 and Gemma-3's head 256 do not take it): run_gpu_suite.sh bench A-B-A,
# this tree, .baseline = 5563b32 (main just before issue 8's first merge), this tree again.
# Prepare: rm -rf .baseline && mkdir .baseline && git archive 5563b32 | tar -x -C .baseline
# run: bash op_tests/gpu_calls/gpu_call_2026-12-03j.sh   carry: .baseline   Logs: $OUT/tests.log, $OUT/bench/*
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
t0=$SECONDS
python3 -m pip install --no-deps --no-build-isolation -e . >"$O/install.log" 2>&1 || tail -5 "$O/install.log"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache PYTHONUNBUFFERED=1
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --jobs 16 --out /tmp/kernels --q-dtype bf16,fp16 \
    --kv-dtype bf16,fp16 --out-dtype bf16,fp16 --head-size 128 --gqa 1 --mma-rows 16 >"$O/prebuild.log" 2>&1
echo "[+$((SECONDS - t0))s] $(grep -E "kernels ready" "$O/prebuild.log")"
AITER_SWA_PREBUILT_DIR=/tmp/kernels timeout -k 5 120 python3 -m pytest -q -p no:cacheprovider -n 8 \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py -k long_form >"$O/tests.log" 2>&1
tail -1 "$O/tests.log"; echo "[+$((SECONDS - t0))s] tests done"
mkdir -p "$O/bench"
BENCH_HEADS=128 BENCH_GQA=4,8 OUT=$O/bench timeout -k 10 400 bash op_tests/run_gpu_suite.sh bench --models mistral seed --ctx 16384 \
    --windows 0 128 1024 4096 8192 --flex-ctx --reps 10 2>&1 | grep -v "^#" | tail -40
echo "[+$((SECONDS - t0))s] all done"
