#!/usr/bin/env bash
# 2026-11-30 (10:30 UTC session), call 3 (10:47 UTC): issue 8's last target, "no shape of the existing benchmark table slower
# than before this issue (same run)". The project's benchmark (its own rows: the four models at 16K context, windows
# off / 128 / 1024 / 4096 / 8192, default dispatch) A-B-A: this checkout, then .baseline/ = 5563b32 (main just
# before the first of issue 8's merges, a45c81e), then this checkout again, each in its own process on its own
# pre-built kernels (run_gpu_suite.sh bench). No FlexAttention column (it compiles per shape).
# Prepare: rm -rf .baseline && mkdir .baseline && git archive 5563b32 | tar -x -C .baseline
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30x.sh   carry: .baseline.  Logs: $OUT/call_30x.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_30x; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
OUT=$L timeout -k 10 540 bash op_tests/run_gpu_suite.sh bench --ctx 16384 --windows 0 128 1024 4096 8192 \
    --flex-ctx --reps 10 2>&1 | grep -v "^#" | tail -70
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_30x.tgz" -C "$L" .
