#!/usr/bin/env bash
# 2026-11-30 (19:11 UTC session), call 6 (the session's last ~300 device seconds): issue 8's "no shape of the existing
# benchmark table slower than before this issue", a shortened gpu_call_2026-11-30x.sh: windows off / 1024 / 4096 at
# 16K context, 5 reps, A-B-A (this tree, .baseline = 5563b32, this tree), logs straight into $OUT so that a run
# stopped by the time limit keeps what it measured.
# Prepare: rm -rf .baseline && mkdir .baseline && git archive 5563b32 | tar -x -C .baseline
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30ao.sh   carry: .baseline   Logs: $OUT/bench*.log
set -uo pipefail
bash op_tests/run_gpu_suite.sh bench --ctx 16384 --windows 0 1024 4096 --flex-ctx --reps 5 2>&1 | grep -v "^#" | tail -40
